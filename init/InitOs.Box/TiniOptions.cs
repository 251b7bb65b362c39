using InitOs.Sys;

namespace InitOs.Box;

/// <summary>tini 0.19's command line and environment, parsed; an error names the bad argument.</summary>
internal sealed record TiniOptions
{
    public bool Subreaper { get; init; }
    public bool KillProcessGroup { get; init; }
    public bool WarnOnReap { get; init; }
    public int Verbosity { get; init; } = 1;
    public int ParentDeathSignal { get; init; }
    public IReadOnlyList<int> ExpectedExitCodes { get; init; } = [];
    public IReadOnlyList<string> Command { get; init; } = [];
    public bool ShowHelp { get; init; }
    public bool ShowVersion { get; init; }
    public bool ShowLicense { get; init; }

    public static TiniOptions Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var options = new TiniOptions
        {
            Subreaper = environment("TINI_SUBREAPER") is not null,
            KillProcessGroup = environment("TINI_KILL_PROCESS_GROUP") is not null,
            Verbosity = int.TryParse(environment("TINI_VERBOSITY"), out int v) ? v : 1,
        };
        var expected = new List<int>();
        int i = 0;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }
            if (arg == "--version")
            {
                return options with { ShowVersion = true };
            }
            if (!arg.StartsWith('-') || arg.Length < 2)
            {
                break; // the program: everything from here on is its command line
            }
            for (int j = 1; j < arg.Length; j++)
            {
                char flag = arg[j];
                switch (flag)
                {
                    case 'h': return options with { ShowHelp = true };
                    case 'l': return options with { ShowLicense = true };
                    case 's': options = options with { Subreaper = true }; break;
                    case 'g': options = options with { KillProcessGroup = true }; break;
                    case 'w': options = options with { WarnOnReap = true }; break;
                    case 'v': options = options with { Verbosity = options.Verbosity + 1 }; break;
                    case 'p' or 'e':
                        var value = j + 1 < arg.Length ? arg[(j + 1)..] : ++i < args.Count ? args[i] : throw new TiniUsageException($"option -{flag} needs a value");
                        options = flag == 'p'
                            ? options with { ParentDeathSignal = Signal.Parse(value) ?? throw new TiniUsageException($"invalid signal for -p: {value}") }
                            : options;
                        if (flag == 'e')
                        {
                            expected.Add(int.TryParse(value, out int code) && code is >= 0 and <= 255 ? code : throw new TiniUsageException($"invalid exit code for -e: {value} (0 to 255)"));
                        }
                        j = arg.Length;
                        break;
                    default:
                        throw new TiniUsageException($"invalid option -- '{flag}'");
                }
            }
        }
        return options with { ExpectedExitCodes = expected, Command = args.Skip(i).ToList() };
    }
}

internal sealed class TiniUsageException : Exception
{
    public TiniUsageException() { }
    public TiniUsageException(string message) : base(message) { }
    public TiniUsageException(string message, Exception inner) : base(message, inner) { }
}

using System.Globalization;
using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Jails.Running;

namespace InitOs.Box;

/// <summary>
/// `initos jail exec [OPTIONS] ID [--] [PROGRAM ARGS]`, runc's flags: --process FILE (a whole
/// runtime-spec process; else the one the jail started with, new args), -e/--env, --cwd,
/// -u/--user UID[:GID], --additional-gids, --cap, --no-new-privs, -d/--detach, --pid-file,
/// -t/--tty and --console-socket (a new terminal: its master to the socket, or relayed here).
/// As crun (and unlike runc), an exec'd program has no_new_privs only when asked: --no-new-privs
/// or its --process file.
/// </summary>
internal static class JailExecCommand
{
    private sealed class Options
    {
        public string? ProcessFile, Cwd, User, PidFile, Id, ConsoleSocket;
        public bool Detach, NoNewPrivileges, Tty;
        public List<string> Env { get; } = [];
        public List<string> Caps { get; } = [];
        public List<uint> Gids { get; } = [];
        public string[] Command = [];
    }

    public static int Run(string[] args, string root)
    {
        var options = Parse(args);
        var jail = Jail.Open(options.Id!, root);
        var process = Process(options, jail.StartedProcess, out bool terminal);
        using var tty = JailTerminal.ForExec(options.Tty || terminal, options.ConsoleSocket, options.Detach);
        int slave = tty.OpenSlave();
        (int Helper, int Program) started;
        try
        {
            started = jail.StartExec(process, options.Detach, slave);
        }
        finally
        {
            if (slave >= 0)
            {
                Sys.Files.Close(slave);
            }
        }
        tty.Hand();
        JailApplet.WritePidFile(options.PidFile, started.Program);
        if (options.Detach)
        {
            return 0;
        }
        var exit = Sys.Processes.Wait(started.Helper) ?? throw new JailException($"jail {jail.Id}: lost the exec helper {started.Helper}");
        tty.Finish();
        return JailApplet.ExitStatus(exit);
    }

    private static Options Parse(string[] args)
    {
        var o = new Options();
        int i = 0;
        string Value(string flag) => i + 1 < args.Length ? args[++i] : throw new JailUsageException($"exec: {flag} needs a value");
        for (; i < args.Length && o.Id is null; i++)
        {
            var (flag, inline) = args[i].StartsWith("--", StringComparison.Ordinal) && args[i].IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                ? (args[i][..eq], args[i][(eq + 1)..]) : (args[i], null);
            string Next() => inline ?? Value(flag);
            switch (flag)
            {
                case "--process" or "-p": o.ProcessFile = Next(); break;
                case "--env" or "-e": o.Env.Add(Next()); break;
                case "--cwd": o.Cwd = Next(); break;
                case "--user" or "-u": o.User = Next(); break;
                case "--additional-gids" or "-g": o.Gids.Add(ParseId(Next(), "--additional-gids")); break;
                case "--cap" or "-c": o.Caps.Add(Next()); break;
                case "--pid-file": o.PidFile = Path.GetFullPath(Next()); break;
                case "--detach" or "-d": o.Detach = true; break;
                case "--no-new-privs": o.NoNewPrivileges = true; break;
                case "--tty" or "-t": o.Tty = true; break;
                case "--console-socket": o.ConsoleSocket = Path.GetFullPath(Next()); break;
                default:
                    if (flag.StartsWith('-'))
                    {
                        throw new JailUsageException($"exec: unknown flag '{args[i]}'");
                    }
                    o.Id = args[i];
                    break;
            }
        }
        if (o.Id is null)
        {
            throw new JailUsageException("exec: missing jail ID");
        }
        o.Command = i < args.Length && args[i] == "--" ? args[(i + 1)..] : args[i..];
        if (o.Command.Length == 0 && o.ProcessFile is null)
        {
            throw new JailUsageException("exec: no program given (PROGRAM ARGS, or --process FILE)");
        }
        return o;
    }

    /// <summary>The exec'd process: the --process file's, or the jail's own with the command's args, then the flags on top.</summary>
    /// <param name="terminal">The --process file asks for a terminal (process.terminal), as podman's does for exec -t.</param>
    private static ProcessPlan Process(Options o, ProcessPlan started, out bool terminal)
    {
        var process = o.ProcessFile is null
            ? started with { Args = o.Command, NoNewPrivileges = o.NoNewPrivileges, Terminal = false }
            : FromFile(o.ProcessFile, started);
        terminal = process.Terminal;
        if (o.ProcessFile is not null && o.Command.Length > 0)
        {
            process = process with { Args = o.Command };
        }
        if (o.NoNewPrivileges)
        {
            process = process with { NoNewPrivileges = true };
        }
        if (o.Cwd is not null)
        {
            process = process with { Cwd = o.Cwd.StartsWith('/') ? o.Cwd : throw new JailUsageException($"exec: --cwd '{o.Cwd}' is not an absolute path") };
        }
        if (o.User is not null)
        {
            var parts = o.User.Split(':');
            process = process with
            {
                Uid = ParseId(parts[0], "--user"),
                Gid = parts.Length > 1 ? ParseId(parts[1], "--user") : process.Gid,
            };
        }
        if (o.Gids.Count > 0)
        {
            process = process with { AdditionalGids = [.. process.AdditionalGids, .. o.Gids] };
        }
        if (o.Env.Count > 0)
        {
            process = process with { Env = WithEnv(process.Env, o.Env) };
        }
        if (o.Caps.Count > 0)
        {
            ulong added = ProcessPlanner.Mask(o.Caps, "--cap", (field, message) => Console.Error.WriteLine($"initos jail: warning: {field}: {message}"));
            var caps = process.Capabilities;
            process = process with { Capabilities = caps with { Bounding = caps.Bounding | added, Effective = caps.Effective | added, Permitted = caps.Permitted | added } };
        }
        return process;
    }

    /// <summary>A runtime-spec process object (podman's exec writes one): read and planned as the bundle's is; the jail's seccomp filter stays.</summary>
    private static ProcessPlan FromFile(string file, ProcessPlan started)
    {
        var text = File.ReadAllText(file);
        // Wrapped on the same line, so the file's line numbers stay true in errors.
        var spec = Bundle.Parse("{\"ociVersion\":\"1.0.2\",\"process\":" + text + "\n}", file);
        var problems = new List<string>();
        var planned = ProcessPlanner.Plan(spec.Process, null, (field, message) => problems.Add($"{field}: {message}"),
            (field, message) => Console.Error.WriteLine($"initos jail: warning: {field}: {message}"));
        if (planned is null || problems.Count > 0)
        {
            throw new SpecException(file, problems);
        }
        return planned with { Seccomp = started.Seccomp };
    }

    private static List<string> WithEnv(IReadOnlyList<string> env, IEnumerable<string> added)
    {
        var result = env.ToList();
        foreach (var entry in added)
        {
            var name = entry.Split('=')[0];
            if (!entry.Contains('=', StringComparison.Ordinal) || name.Length == 0)
            {
                throw new JailUsageException($"exec: --env '{entry}' is not NAME=VALUE");
            }
            result.RemoveAll(e => e.StartsWith(name + "=", StringComparison.Ordinal));
            result.Add(entry);
        }
        return result;
    }

    private static uint ParseId(string text, string flag) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw new JailUsageException($"exec: {flag} '{text}' is not a number");
}

using System.Globalization;
using System.Text.Json;

namespace InitOs.Box;

/// <summary>
/// runc's global flags, given before the command: --root (where jail records live), --log and
/// --log-format (errors also written there, as podman's conmon reads them), and
/// --systemd-cgroup, which is refused: InitOS makes each jail's cgroup itself.
/// </summary>
internal sealed record JailGlobals(string Root, string? LogFile, bool JsonLog, string? Refused)
{
    /// <summary>--version / -v before any command (runc prints its version and the spec's).</summary>
    public bool Version { get; init; }

    public static (JailGlobals Globals, string[] Command) Parse(string[] args)
    {
        string root = Jails.Running.JailState.Root;
        string? log = null, format = null, refused = null;
        bool version = false;
        int i = 0;
        for (; i < args.Length && args[i].StartsWith('-'); i++)
        {
            if (args[i] is "--version" or "-v")
            {
                version = true;
                continue;
            }
            var (name, inline) = args[i].IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (args[i][..eq], args[i][(eq + 1)..]) : (args[i], null);
            string Value() => inline ?? (i + 1 < args.Length ? args[++i] : throw new JailUsageException($"{name} needs a value"));
            switch (name)
            {
                case "--root":
                    root = Path.GetFullPath(Value());
                    break;
                case "--log":
                    log = Path.GetFullPath(Value());
                    break;
                case "--log-format":
                    format = Value();
                    if (format is not ("text" or "json"))
                    {
                        throw new JailUsageException($"--log-format '{format}': expected text or json");
                    }
                    break;
                case "--systemd-cgroup":
                    // Said once --log is known too, so the caller's log has it.
                    refused = "--systemd-cgroup is not supported: InitOS makes each jail's cgroup itself under /sys/fs/cgroup/initos and asks systemd for none; use the caller's cgroupfs manager (podman: --cgroup-manager cgroupfs)";
                    break;
                default:
                    // Not a global flag: the command's own (or a mistake the command names).
                    return (new JailGlobals(root, log, format == "json", refused) { Version = version }, args[i..]);
            }
        }
        return (new JailGlobals(root, log, format == "json", refused) { Version = version }, args[i..]);
    }

    /// <summary>An error for the caller: on stderr, and in the --log file as runc writes it (logrus text or JSON lines).</summary>
    public void Error(string message)
    {
        Console.Error.WriteLine($"initos jail: {message}");
        if (LogFile is null)
        {
            return;
        }
        var time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        var quoted = "\"" + JsonEncodedText.Encode(message).ToString() + "\"";
        var line = JsonLog
            ? $"{{\"level\":\"error\",\"msg\":{quoted},\"time\":\"{time}\"}}"
            : $"time=\"{time}\" level=error msg={quoted}";
        try
        {
            File.AppendAllText(LogFile, line + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"initos jail: --log {LogFile}: cannot be written");
        }
    }
}

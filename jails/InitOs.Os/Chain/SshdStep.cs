using System.Globalization;
using System.Text;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// `chain sshd --port P --keys FILE [--dropbear PATH]`: a key-only dropbear beside the rest of
/// the chain, for debugging. The keys are checked here; a keeper process (<see cref="SshdKeeper"/>),
/// forked twice so the tini in front reaps it, shows them to dropbear in a mount namespace of
/// its own and restarts dropbear if it dies. The chain goes on once the keeper says it is ready.
/// </summary>
public static class SshdStep
{
    public sealed record Options(int Port, string Keys, string Dropbear);

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    public static ChainState Run(IReadOnlyList<string> args, ChainState state)
    {
        var options = Parse(args, FindDropbear);
        var keys = ChainFiles.ReadText(options.Keys, "--keys");
        AuthorizedKeys.Check(options.Keys, keys);
        StartKeeper(options, state);
        return state;
    }

    public static Options Parse(IReadOnlyList<string> args, Func<string?> findDropbear)
    {
        int? port = null;
        string? keys = null, dropbear = null;
        for (int i = 0; i < args.Count; i++)
        {
            if (i + 1 >= args.Count || args[i] is not ("--port" or "--keys" or "--dropbear"))
            {
                throw new ChainException($"unknown argument \"{args[i]}\" (--port P, --keys FILE and --dropbear PATH are known, each with a value)");
            }
            var value = args[++i];
            switch (args[i - 1])
            {
                case "--port":
                    port = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                        ? p : throw new ChainException($"--port \"{value}\" is not a port from 1 to 65535");
                    break;
                case "--keys":
                    keys = value;
                    break;
                default:
                    dropbear = value;
                    break;
            }
        }
        return new Options(
            port ?? throw new ChainException("--port P is required"),
            keys ?? throw new ChainException("--keys FILE (authorized_keys lines) is required"),
            dropbear ?? findDropbear() ?? throw new ChainException("no dropbear in PATH, /usr/sbin or /sbin; give --dropbear PATH"));
    }

    private static string? FindDropbear() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(d => Path.Combine(d, "dropbear"))
            .FirstOrDefault(File.Exists);

    private static void StartKeeper(Options options, ChainState state)
    {
        var ends = Pipes.Create(closeOnExec: true);
        int readyWrite = Files.DuplicateInheritable(ends[1]);
        Files.Close(ends[1]);
        SpawnResult started;
        try
        {
            var self = Environment.ProcessPath ?? "/proc/self/exe";
            started = Processes.SpawnExact(self,
                [self, "chain", SshdKeeper.Applet, "--port", options.Port.ToString(CultureInfo.InvariantCulture), "--keys", Path.GetFullPath(options.Keys),
                    "--dropbear", options.Dropbear, "--ready-fd", readyWrite.ToString(CultureInfo.InvariantCulture)],
                state.Environment,
                new SpawnOptions { Flags = SpawnFlags.Detached | SpawnFlags.NewMountNamespace });
        }
        finally
        {
            Files.Close(readyWrite);
        }
        using var ready = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(ends[0], ownsHandle: true), FileAccess.Read);
        if (started.ExecError != Errno.None)
        {
            throw new ChainException(started.ExecError == Errno.EPERM
                ? "a mount namespace of its own was refused (EPERM): chain sshd needs CAP_SYS_ADMIN, to show dropbear the keys and a host key without writing to the jail"
                : $"the keeper did not start: {SysException.Describe(started.ExecError)}");
        }
        var read = Task.Run(() =>
        {
            using var reader = new StreamReader(ready, Encoding.UTF8, leaveOpen: true);
            return reader.ReadLine();
        });
        if (!read.Wait(ReadyTimeout))
        {
            throw new ChainException($"the keeper (pid {started.Pid}) said nothing in {ReadyTimeout.TotalSeconds:0} s");
        }
        if (read.Result != SshdKeeper.Ready)
        {
            throw new ChainException(read.Result ?? $"the keeper (pid {started.Pid}) ended before it was ready");
        }
    }
}

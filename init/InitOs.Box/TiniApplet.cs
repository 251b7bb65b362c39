using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// tini 0.19 as an applet (`tini …` or `initos tini …`): the small init inside a jail. Runs one
/// program in its own process group, forwards signals to it (or its group with -g), reaps
/// every zombie, and exits with the program's status (128+signal when killed).
/// </summary>
internal static class TiniApplet
{
    public const string Version = "0.19.0";

    // Not forwarded: the synchronous ones (a fault of tini itself), SIGKILL/SIGSTOP (cannot be
    // caught), SIGRTMIN (the .NET runtime's thread-suspension signal) and glibc's 32/33.
    private static readonly HashSet<int> NotCaught =
        [Signal.Kill, Signal.Stop, Signal.Segv, Signal.Bus, Signal.Ill, Signal.Fpe, Signal.Abrt, Signal.Trap, Signal.Sys, 32, 33, Signal.RtMin];

    public static int Run(string[] args)
    {
        TiniOptions options;
        try
        {
            options = TiniOptions.Parse(args, Environment.GetEnvironmentVariable);
        }
        catch (TiniUsageException e)
        {
            Console.Error.WriteLine($"tini: {e.Message}");
            Console.Error.Write(Usage);
            return 1;
        }
        if (options.ShowHelp || options.ShowVersion || options.ShowLicense)
        {
            Console.Write(options.ShowHelp ? Usage : options.ShowVersion ? $"tini version {Version} (InitOS)\n" : License);
            return 0;
        }
        if (options.Command.Count == 0)
        {
            Console.Error.Write(Usage);
            return 1;
        }
        var env = Environment.GetEnvironmentVariables().Keys.Cast<string>().Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToList();
        var spawnOptions = new SpawnOptions { Flags = SpawnFlags.NewProcessGroup | SpawnFlags.Foreground, SearchPath = true };
        return Supervise(options, () =>
        {
            var result = Processes.SpawnExact(options.Command[0], options.Command, env, spawnOptions);
            return (result.Pid, result.ExecError == Errno.None ? null : SysException.Describe(result.ExecError));
        });
    }

    /// <summary>
    /// tini's loop around one child that <paramref name="spawn"/> starts (its pid, and why exec
    /// failed if it did): reap everything, forward signals, exit with the child's status.
    /// Also the jail's init (jail-init), whose spawn applies the jail's process settings.
    /// </summary>
    internal static int Supervise(TiniOptions options, Func<(int Pid, string? ExecError)> spawn)
    {
        var log = new TiniLog(options.Verbosity);
        if (!Prepare(options, log))
        {
            return 1;
        }
        int child = 0;
        var reaper = new Reaper(options.WarnOnReap ? exit => log.Warn($"Reaped zombie process with pid={exit.Pid}") : null);
        var caught = Enumerable.Range(1, Signal.Max).Where(s => !NotCaught.Contains(s) && s != Signal.Chld);
        var signals = new SignalLoop(reaper, caught, signal => Forward(signal, Volatile.Read(ref child), options, log));

        using var done = new ManualResetEventSlim();
        ChildExit exit = default;
        string? execError = null;
        try
        {
            Volatile.Write(ref child, reaper.Start(() =>
            {
                var (pid, error) = spawn();
                execError = error;
                return pid;
            }, e =>
            {
                exit = e;
                done.Set();
            }));
        }
        catch (SysException e)
        {
            log.Fatal($"fork failed: {e.Message}");
            return 1;
        }
        if (execError is not null)
        {
            log.Fatal($"exec {options.Command[0]} failed: {execError}");
        }
        log.Info($"Spawned child process '{options.Command[0]}' with pid '{child}'");
        // The child's exit is reaped by this loop, which then sees done set.
        signals.Run(() => done.IsSet);
        int code = exit.Exited ? exit.ExitCode : 128 + exit.Signal;
        log.Info($"Main child exited {(exit.Exited ? $"normally (with status '{code}')" : $"with signal (with signal '{Signal.Name(exit.Signal)}')")}");
        return options.ExpectedExitCodes.Contains(code) ? 0 : code;
    }

    private static bool Prepare(TiniOptions options, TiniLog log)
    {
        try
        {
            if (options.ParentDeathSignal > 0)
            {
                Processes.SetParentDeathSignal(options.ParentDeathSignal);
            }
            if (options.Subreaper)
            {
                Processes.BecomeSubreaper();
            }
        }
        catch (SysException e)
        {
            log.Fatal(e.Message);
            return false;
        }
        if (Processes.CurrentPid != 1 && !Processes.IsSubreaper)
        {
            log.Warn("Tini is not running as PID 1 and isn't registered as a child subreaper.\n" +
                "Zombie processes will not be re-parented to Tini, so zombie reaping won't work.\n" +
                "To fix the problem, use the -s option or set the environment variable TINI_SUBREAPER to register Tini as a child subreaper, or run Tini as PID 1.");
        }
        return true;
    }

    private static void Forward(int signal, int child, TiniOptions options, TiniLog log)
    {
        if (child <= 0 || signal is Signal.Ttin or Signal.Ttou)
        {
            return;
        }
        int target = options.KillProcessGroup ? -child : child;
        if (!Processes.Signal(target, signal))
        {
            log.Warn($"Tried to forward {Signal.Name(signal)} to {target}, but it failed");
        }
        else
        {
            log.Debug($"Passed on signal: '{Signal.Name(signal)}'");
        }
    }

    private const string Usage = """
        tini (InitOS) - a tiny but valid init for containers

        Usage: tini [OPTIONS] PROGRAM -- [ARGS] | --version

        Execute a program under the supervision of a valid init process (tini)

        Command line options:

          --version: Show version and exit.
          -h: Show this help message and exit.
          -s: Register as a process subreaper (requires Linux >= 3.4).
          -p SIGNAL: Trigger SIGNAL when parent dies, e.g. "-p SIGKILL".
          -v: Generate more verbose output. Repeat up to 3 times.
          -w: Print a warning when processes are getting reaped.
          -g: Send signals to the child's process group.
          -e EXIT_CODE: Remap EXIT_CODE (from 0 to 255) to 0 (can be repeated).
          -l: Show license and exit.

        Environment variables:

          TINI_SUBREAPER: Register as a process subreaper (requires Linux >= 3.4).
          TINI_VERBOSITY: Set the verbosity level (default: 1).
          TINI_KILL_PROCESS_GROUP: Send signals to the child's process group.

        """;

    private const string License = "InitOS's tini mode is part of InitOS. It implements tini's command line and behaviour; it contains no code of tini.\n";
}

/// <summary>tini's log levels on stderr: 0 fatal, 1 warn, 2 info, 3 debug.</summary>
internal sealed class TiniLog
{
    private readonly int _verbosity;

    public TiniLog(int verbosity) => _verbosity = verbosity;

    public void Fatal(string message) => Write(0, "FATAL", message);
    public void Warn(string message) => Write(1, "WARN ", message);
    public void Info(string message) => Write(2, "INFO ", message);
    public void Debug(string message) => Write(3, "DEBUG", message);

    private void Write(int level, string tag, string message)
    {
        if (_verbosity >= level)
        {
            Console.Error.WriteLine($"[{tag} tini ({Processes.CurrentPid})] {message}");
        }
    }
}

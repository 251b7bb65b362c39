using System.Globalization;
using InitOs.Init.Supervision;
using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Jails.Network;
using InitOs.Jails.Running;
using InitOs.Jails.Storage;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// `initos jail COMMAND`: an OCI runtime command line (runc's words and flags) for InitOS's jails.
/// State lives under /run/initos/jails and outlives the command.
/// </summary>
internal static class JailApplet
{
    private const string Usage = """
        usage: initos jail COMMAND
          run    [--bundle DIR] [--pid-file FILE] [--pool DIR] ID   create and start, wait, exit with the program's status
          create [--bundle DIR] [--pid-file FILE] [--pool DIR] ID   build the jail; its program waits for start
                 --pool: the root is an overlay whose upper is a fresh slot of that btrfs pool
                 --network bridge|none|host [--bridge NAME] [--subnet CIDR]: veth on a bridge with an
                   address from the subnet (initos0, 10.88.0.0/16), lo only, or the host's network
          start  ID                                     start the program of a created jail
          state  ID                                     print the OCI state JSON
          exec   ID [--] PROGRAM [ARGS]                 run another program in a running jail (the bundle's process settings)
          kill   ID [SIGNAL]                            signal the jail's init (default TERM), which forwards it
          delete [--force] ID                           remove a stopped jail (--force: kill it first)
          list                                          the jails and their status
          pool init DIR --slots N --quota BYTES         make DIR (on btrfs) a pool of N quota'd subvolumes
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.Write(Usage);
            return 2;
        }
        // runc's way: --help alone or after a command prints the usage and succeeds.
        if (args[0] is "--help" or "-h" or "help" || args is [_, "--help" or "-h", ..])
        {
            Console.Write(Usage);
            return 0;
        }
        try
        {
            return args[0] switch
            {
                "run" => RunJail(JailArguments.Parse(args[1..], withBundle: true)),
                "create" => Create(JailArguments.Parse(args[1..], withBundle: true)),
                "start" => Start(JailArguments.Parse(args[1..], withBundle: false).Id),
                "state" => State(JailArguments.Parse(args[1..], withBundle: false).Id),
                "kill" => Kill(args[1..]),
                "exec" => Exec(args[1..]),
                "delete" => Delete(JailArguments.Parse(args[1..], withBundle: false)),
                "list" => List(),
                "pool" => Pool(args[1..]),
                _ => throw new JailUsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (JailUsageException e)
        {
            Console.Error.WriteLine($"initos jail: {e.Message}");
            Console.Error.Write(Usage);
            return 2;
        }
        catch (Exception e) when (e is JailException or SpecException or SysException or IOException or UnauthorizedAccessException or StoragePoolException or ArgumentException)
        {
            Console.Error.WriteLine($"initos jail: {e.Message}");
            return 1;
        }
    }

    /// <summary>The plan, with a pool slot taken for its overlay when --pool is given (given back if planning fails).</summary>
    private static JailPlan Plan(JailArguments arguments)
    {
        var bundle = Bundle.Load(arguments.Bundle);
        var stateDirectory = JailState.DirectoryOf(arguments.Id);
        if (arguments.Pool is null)
        {
            return JailPlanner.Plan(bundle, arguments.Id, stateDirectory) with { Network = arguments.Network };
        }
        var pool = PoolSettings.Open(arguments.Pool);
        var slot = pool.Take();
        var lease = new PoolLease(pool.Directory, slot.Index, slot.Lease);
        try
        {
            return JailPlanner.Plan(bundle, arguments.Id, stateDirectory, new OverlayDirs(slot.Upper, slot.Work), lease) with { Network = arguments.Network };
        }
        catch
        {
            JailLauncher.ReleaseLease(lease);
            throw;
        }
    }

    private static int Create(JailArguments arguments)
    {
        var jail = Jail.Create(Plan(arguments), waitForStart: true, foreground: false);
        WritePidFile(arguments.PidFile, jail.Pid);
        return 0;
    }

    private static int Pool(string[] args)
    {
        if (args.Length != 6 || args[0] != "init" || args[2] != "--slots" || args[4] != "--quota"
            || !int.TryParse(args[3], CultureInfo.InvariantCulture, out var slots) || !long.TryParse(args[5], CultureInfo.InvariantCulture, out var quota))
        {
            throw new JailUsageException("pool init DIR --slots N --quota BYTES");
        }
        var pool = PoolSettings.Initialize(args[1], slots, quota);
        Console.WriteLine($"pool {pool.Directory}: {slots} slots of {quota} bytes ({pool.QuotaKind} quotas)");
        return 0;
    }

    /// <summary>Like runc run: the jail lives as long as this command, which exits with the program's status.</summary>
    private static int RunJail(JailArguments arguments)
    {
        var plan = Plan(arguments);
        var reaper = new Reaper();
        int pid = 0;
        var forwarded = new[] { Signal.Term, Signal.Int, Signal.Hup, Signal.Quit, Signal.Usr1, Signal.Usr2 };
        var signals = new SignalLoop(reaper, forwarded, signal => Processes.Signal(Volatile.Read(ref pid), signal));
        using var done = new ManualResetEventSlim();
        ChildExit exit = default;
        Jail? launched = null;
        try
        {
            Volatile.Write(ref pid, reaper.Start(() =>
            {
                launched = Jail.Create(plan, waitForStart: false, foreground: true);
                WritePidFile(arguments.PidFile, launched.Pid);
                return launched.Pid;
            }, e =>
            {
                exit = e;
                done.Set();
            }));
            signals.Run(() => done.IsSet);
        }
        finally
        {
            launched?.Release();
        }
        return ExitStatus(exit);
    }

    private static int Start(string id)
    {
        Jail.Open(id).Start();
        return 0;
    }

    private static int State(string id)
    {
        Console.WriteLine(Jail.Open(id).State.OciStateJson());
        return 0;
    }

    private static int Exec(string[] args)
    {
        if (args.Length < 2)
        {
            throw new JailUsageException("exec takes ID [--] PROGRAM [ARGS]");
        }
        var command = args[1] == "--" ? args[2..] : args[1..];
        if (command.Length == 0)
        {
            throw new JailUsageException("exec: no program given");
        }
        return ExitStatus(Jail.Open(args[0]).Exec(command));
    }

    private static int Kill(string[] args)
    {
        if (args.Length is < 1 or > 2)
        {
            throw new JailUsageException("kill takes ID [SIGNAL]");
        }
        int signal = args.Length == 2 ? Signal.Parse(args[1]) ?? throw new JailUsageException($"unknown signal '{args[1]}'") : Signal.Term;
        Jail.Open(args[0]).Signal(signal);
        return 0;
    }

    private static int Delete(JailArguments arguments)
    {
        Jail.Open(arguments.Id).Delete(arguments.Force);
        return 0;
    }

    private static int List()
    {
        Console.WriteLine($"{"ID",-24} {"PID",8} {"STATUS",-9} BUNDLE");
        foreach (var state in Jail.All().Select(j => j.State))
        {
            Console.WriteLine($"{state.Id,-24} {state.Pid,8} {JailLifecycle.Name(state.Status),-9} {state.Bundle}");
        }
        return 0;
    }

    /// <summary>The shell's convention: the program's exit code, or 128 + the signal that ended it.</summary>
    private static int ExitStatus(ChildExit exit) => exit.Exited ? exit.ExitCode : 128 + exit.Signal;

    private static void WritePidFile(string? path, int pid)
    {
        if (path is not null)
        {
            AtomicFile.WriteText(path, pid.ToString(CultureInfo.InvariantCulture));
        }
    }
}

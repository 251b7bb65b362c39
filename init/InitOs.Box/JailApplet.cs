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
    /// <summary>The name that makes the binary the jail runtime itself (argv[0] dispatch), for callers that run "a runc".</summary>
    public const string RuntimeName = "initos-runc";

    private const string Usage = """
        usage: initos jail [--root DIR] [--log FILE] [--log-format text|json] [--version] COMMAND
          (runc's global flags: where jail records live, default /run/initos/jails; errors also go to
          the log file; --systemd-cgroup is refused, InitOS makes each jail's cgroup itself)
          run    [--bundle DIR] [--pid-file FILE] [--pool DIR] [--detach] ID   create and start, wait, exit with the program's status
          create [--bundle DIR] [--pid-file FILE] [--pool DIR] ID   build the jail; its program waits for start
                 --console-socket SOCKET: where the terminal of a process.terminal jail is sent (SCM_RIGHTS)
                 --preserve-fds N: this command's fds 3..3+N-1 reach the program
                 --config FILE: the spec from FILE instead of the bundle's config.json (crun's flag)
                 --pool: the root is an overlay whose upper is a fresh slot of that btrfs pool
                 --network bridge|none|host [--bridge NAME] [--subnet CIDR]: veth on a bridge with an
                   address from the subnet (initos0, 10.88.0.0/16), lo only, or the host's network
          start  ID                                     start the program of a created jail
          state  ID                                     print the OCI state JSON
          exec   [OPTIONS] ID [--] PROGRAM [ARGS]       run another program in a running jail (the bundle's process settings)
                 --process FILE (a runtime-spec process), -e/--env K=V, --cwd DIR, -u/--user UID[:GID],
                 --cap CAP, --no-new-privs, -d/--detach, --pid-file FILE, -t/--tty, --console-socket SOCKET
          kill   ID [SIGNAL]                            signal the jail's init (default TERM), which forwards it
          delete [--force] ID                           remove a stopped or created jail (--force: kill a running one first)
          list   [--format table|json] [-q]                the jails and their status (-q: IDs only)
          ps     [--format table|json] ID               the processes in a jail
          spec   [--bundle DIR] [--rootless]            write a config.json to start from
          features                                      what this runtime supports (runtime-spec features JSON)
          pool init DIR --slots N --quota BYTES         make DIR (on btrfs) a pool of N quota'd subvolumes
        """;

    public static int Run(string[] args)
    {
        JailGlobals globals;
        try
        {
            (globals, args) = JailGlobals.Parse(args);
        }
        catch (JailUsageException e)
        {
            Console.Error.WriteLine($"initos jail: {e.Message}");
            return 2;
        }
        if (globals.Refused is { } refused)
        {
            globals.Error(refused);
            return 1;
        }
        if (globals.Version && args.Length == 0)
        {
            Console.WriteLine($"initos jail version {Init.BuildVersion.Text}\nspec: {RuntimeFeatures.SpecVersion}");
            return 0;
        }
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
        var root = globals.Root;
        try
        {
            return args[0] switch
            {
                "run" => RunJail(JailArguments.Parse(args[1..], withBundle: true), root),
                "create" => Create(JailArguments.Parse(args[1..], withBundle: true), root),
                "start" => Start(JailArguments.Parse(args[1..], withBundle: false).Id, root),
                "state" => State(JailArguments.Parse(args[1..], withBundle: false).Id, root),
                "kill" => Kill(args[1..], root),
                "exec" => JailExecCommand.Run(args[1..], root),
                "delete" => Delete(JailArguments.Parse(args[1..], withBundle: false), root),
                "list" => JailListing.List(args[1..], root),
                "ps" => JailListing.Ps(args[1..], root),
                "spec" => Spec(args[1..]),
                "features" => Print(RuntimeFeatures.Json()),
                "pool" => Pool(args[1..]),
                _ => throw new JailUsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (JailUsageException e)
        {
            globals.Error(e.Message);
            Console.Error.Write(Usage);
            return 2;
        }
        catch (Exception e) when (e is JailException or SpecException or SysException or IOException or UnauthorizedAccessException or StoragePoolException or ArgumentException)
        {
            globals.Error(e.Message);
            return 1;
        }
    }

    private static int Print(string text)
    {
        Console.WriteLine(text);
        return 0;
    }

    /// <summary>runc spec: config.json in the bundle directory, never over an existing one.</summary>
    private static int Spec(string[] args)
    {
        string bundle = Directory.GetCurrentDirectory();
        bool rootless = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--bundle" or "-b" && i + 1 < args.Length)
            {
                bundle = args[++i];
            }
            else if (args[i] == "--rootless")
            {
                rootless = true;
            }
            else
            {
                throw new JailUsageException($"spec: unexpected argument '{args[i]}'");
            }
        }
        var path = Path.Combine(bundle, "config.json");
        if (File.Exists(path))
        {
            throw new JailException($"{path} exists; remove it first");
        }
        AtomicFile.WriteText(path, SpecTemplate.Json(rootless ? (Credentials.EffectiveUserId, Credentials.EffectiveGroupId) : null));
        return 0;
    }

    /// <summary>
    /// The plan, with a pool slot taken for its overlay when --pool is given (given back if planning
    /// fails), the preserved fds and socket activation's; what the planner left out is said on stderr.
    /// </summary>
    private static JailPlan Plan(JailArguments arguments, string root)
    {
        var plan = SocketActivation.Apply(PlanWithSlot(arguments, root) with { PreservedFds = arguments.PreserveFds });
        foreach (var warning in plan.Warnings)
        {
            Console.Error.WriteLine($"initos jail: warning: {warning}");
        }
        return plan;
    }

    /// <summary>A step between planning and launching: when it fails, the pool slot the plan took goes back.</summary>
    private static T GivingBackOnFailure<T>(JailPlan plan, Func<T> step)
    {
        try
        {
            return step();
        }
        catch
        {
            JailLauncher.ReleaseLease(plan.Lease);
            throw;
        }
    }

    private static JailPlan PlanWithSlot(JailArguments arguments, string root)
    {
        var bundle = Bundle.Load(arguments.Bundle, arguments.Config);
        var stateDirectory = JailState.DirectoryOf(arguments.Id, root);
        if (arguments.Pool is null)
        {
            return JailPlanner.Plan(bundle, arguments.Id, stateDirectory, allowHooks: true) with { Network = arguments.Network };
        }
        var pool = PoolSettings.Open(arguments.Pool);
        var slot = pool.Take();
        var lease = new PoolLease(pool.Directory, slot.Index, slot.Lease);
        try
        {
            return JailPlanner.Plan(bundle, arguments.Id, stateDirectory, new OverlayDirs(slot.Upper, slot.Work), lease, allowHooks: true) with { Network = arguments.Network };
        }
        catch
        {
            JailLauncher.ReleaseLease(lease);
            throw;
        }
    }

    private static int Create(JailArguments arguments, string root) => StartDetached(arguments, root, "create", waitForStart: true);

    /// <summary>
    /// create, and run --detach: the jail is built (its program waiting for `start`, or running at
    /// once) and this command returns; a terminal must go to the console socket.
    /// </summary>
    private static int StartDetached(JailArguments arguments, string root, string command, bool waitForStart)
    {
        var plan = Plan(arguments, root);
        using var terminal = GivingBackOnFailure(plan, () => JailTerminal.ForDetached(plan, arguments.ConsoleSocket, command));
        var jail = Jail.Create(terminal.Attach(plan), waitForStart, foreground: false, root);
        terminal.Hand();
        WritePidFile(arguments.PidFile, jail.Pid);
        if (!waitForStart)
        {
            jail.RunHooks(HookStage.Poststart);
        }
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
    private static int RunJail(JailArguments arguments, string root)
    {
        if (arguments.Detach)
        {
            return StartDetached(arguments, root, "run --detach", waitForStart: false);
        }
        var plan = Plan(arguments, root);
        using var terminal = GivingBackOnFailure(plan, () => JailTerminal.ForForeground(plan, arguments.ConsoleSocket));
        plan = terminal.Attach(plan);
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
                launched = Jail.Create(plan, waitForStart: false, foreground: true, root);
                terminal.Hand();
                WritePidFile(arguments.PidFile, launched.Pid);
                launched.RunHooks(HookStage.Poststart);
                return launched.Pid;
            }, e =>
            {
                exit = e;
                done.Set();
            }));
            signals.Run(() => done.IsSet);
            terminal.Finish();
        }
        finally
        {
            launched?.Release();
        }
        return ExitStatus(exit);
    }

    private static int Start(string id, string root)
    {
        Jail.Open(id, root).Start();
        return 0;
    }

    private static int State(string id, string root)
    {
        Console.WriteLine(Jail.Open(id, root).State.OciStateJson());
        return 0;
    }

    private static int Kill(string[] args, string root)
    {
        if (args.Length is < 1 or > 2)
        {
            throw new JailUsageException("kill takes ID [SIGNAL]");
        }
        int signal = args.Length == 2 ? Signal.Parse(args[1]) ?? throw new JailUsageException($"unknown signal '{args[1]}'") : Signal.Term;
        Jail.Open(args[0], root).Signal(signal);
        return 0;
    }

    private static int Delete(JailArguments arguments, string root)
    {
        // runc's way: --force on a jail that is not there (any more) is not an error.
        if (arguments.Force && JailState.Load(arguments.Id, root) is null)
        {
            return 0;
        }
        Jail.Open(arguments.Id, root).Delete(arguments.Force);
        return 0;
    }

    /// <summary>The shell's convention: the program's exit code, or 128 + the signal that ended it.</summary>
    internal static int ExitStatus(ChildExit exit) => exit.Exited ? exit.ExitCode : 128 + exit.Signal;

    internal static void WritePidFile(string? path, int pid)
    {
        if (path is not null)
        {
            AtomicFile.WriteText(path, pid.ToString(CultureInfo.InvariantCulture));
        }
    }
}

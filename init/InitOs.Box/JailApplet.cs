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

    /// <summary>The plan, with a pool slot taken for its overlay when --pool is given (released again if anything fails).</summary>
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
        try
        {
            var overlay = new OverlayDirs(slot.Upper, slot.Work);
            var lease = new PoolLease(pool.Directory, slot.Index, slot.Lease);
            return JailPlanner.Plan(bundle, arguments.Id, stateDirectory, overlay, lease) with { Network = arguments.Network };
        }
        catch
        {
            pool.Release(slot);
            throw;
        }
    }

    private static JailState Launch(JailPlan plan, bool waitForStart, bool foreground)
    {
        try
        {
            return JailLauncher.Launch(plan, waitForStart, foreground);
        }
        catch
        {
            ReleaseSlot(plan.Lease);
            throw;
        }
    }

    /// <summary>The jail is gone: its upper is destroyed and the slot made fresh for the next one.</summary>
    private static void ReleaseSlot(PoolLease? lease)
    {
        if (lease is not null)
        {
            PoolSettings.Open(lease.PoolDirectory).Release(lease.Slot, lease.Token);
        }
    }

    private static int Create(JailArguments arguments)
    {
        var state = Launch(Plan(arguments), waitForStart: true, foreground: false);
        WritePidFile(arguments.PidFile, state.Pid);
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
        JailState? launched = null;
        try
        {
            Volatile.Write(ref pid, reaper.Start(() =>
            {
                var state = Launch(plan, waitForStart: false, foreground: true);
                launched = state;
                WritePidFile(arguments.PidFile, state.Pid);
                return state.Pid;
            }, e =>
            {
                exit = e;
                done.Set();
            }));
            signals.Run(() => done.IsSet);
        }
        finally
        {
            if (launched is not null)
            {
                JailLauncher.Release(launched);
            }
        }
        return exit.Exited ? exit.ExitCode : 128 + exit.Signal;
    }

    private static int Start(string id)
    {
        var state = Existing(id);
        if (state.Status != "created")
        {
            throw new JailException($"jail {id} is {state.Status}, not created");
        }
        var fifo = Path.Combine(JailState.DirectoryOf(id), "start.fifo");
        // Non-blocking: with no jail-init holding the fifo open this fails at once (ENXIO) instead of hanging.
        int fd = Files.Open(fifo, Files.WriteOnly | Files.CloseOnExec | 0x800);
        try
        {
            Files.WriteAll(fd, "s"u8);
        }
        finally
        {
            Files.Close(fd);
        }
        (state with { Status = "running" }).Save();
        return 0;
    }

    private static int State(string id)
    {
        var state = Existing(id);
        Console.WriteLine(state.OciStateJson());
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
        var state = Existing(args[0]);
        if (state.Status != "running")
        {
            throw new JailException($"jail {state.Id} is {state.Status}, not running");
        }
        var plan = JailPlanner.Plan(Bundle.Load(state.Bundle), state.Id, JailState.DirectoryOf(state.Id));
        int helper = JailProgram.Enter(state.Pid, state.Cgroup, plan.CloneFlags, plan.Process with { Args = command });
        var exit = Processes.Wait(helper) ?? throw new JailException($"jail {state.Id}: lost the exec helper {helper}");
        return exit.Exited ? exit.ExitCode : 128 + exit.Signal;
    }

    private static int Kill(string[] args)
    {
        if (args.Length is < 1 or > 2)
        {
            throw new JailUsageException("kill takes ID [SIGNAL]");
        }
        var state = Existing(args[0]);
        int signal = args.Length == 2 ? Signal.Parse(args[1]) ?? throw new JailUsageException($"unknown signal '{args[1]}'") : Signal.Term;
        if (state.Status is not ("created" or "running"))
        {
            throw new JailException($"jail {state.Id} is {state.Status}: nothing to signal");
        }
        if (!Processes.Signal(state.Pid, signal))
        {
            throw SysException.FromLastError($"kill({state.Pid}, {Signal.Name(signal)})");
        }
        return 0;
    }

    private static int Delete(JailArguments arguments)
    {
        var state = Existing(arguments.Id);
        if (state.Status is "created" or "running")
        {
            if (!arguments.Force)
            {
                throw new JailException($"jail {state.Id} is {state.Status}; stop it first or use --force");
            }
            Processes.Signal(state.Pid, Signal.Kill);
            WaitUntilGone(state);
        }
        JailLauncher.Release(state);
        return 0;
    }

    private static void WaitUntilGone(JailState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (state.Refreshed().Status != "stopped")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new JailException($"jail {state.Id}: pid {state.Pid} did not die within 10 s of SIGKILL");
            }
            Thread.Sleep(10);
        }
    }

    private static int List()
    {
        Console.WriteLine($"{"ID",-24} {"PID",8} {"STATUS",-9} BUNDLE");
        foreach (var id in JailState.AllIds())
        {
            if (JailState.Load(id)?.Refreshed() is { } state)
            {
                Console.WriteLine($"{state.Id,-24} {state.Pid,8} {state.Status,-9} {state.Bundle}");
            }
        }
        return 0;
    }

    private static JailState Existing(string id) =>
        (JailState.Load(id) ?? throw new JailException($"jail {id} does not exist (no {JailState.DirectoryOf(id)}/state.json)")).Refreshed();

    private static void WritePidFile(string? path, int pid)
    {
        if (path is null)
        {
            return;
        }
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, pid.ToString(CultureInfo.InvariantCulture));
        File.Move(temporary, path, overwrite: true);
    }
}

internal sealed class JailUsageException(string message) : Exception(message);

/// <summary>ID and the runc-style flags of create/run/delete.</summary>
internal sealed record JailArguments(string Id, string Bundle, string? PidFile, bool Force, string? Pool, NetworkPlan? Network)
{
    public static JailArguments Parse(string[] args, bool withBundle)
    {
        string? id = null, pidFile = null, pool = null, network = null, bridge = null, subnet = null;
        string bundle = Directory.GetCurrentDirectory();
        bool force = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bundle" or "-b" when withBundle && i + 1 < args.Length:
                    bundle = args[++i];
                    break;
                case "--pid-file" when withBundle && i + 1 < args.Length:
                    pidFile = Path.GetFullPath(args[++i]);
                    break;
                case "--pool" when withBundle && i + 1 < args.Length:
                    pool = args[++i];
                    break;
                case "--network" when withBundle && i + 1 < args.Length:
                    network = args[++i];
                    break;
                case "--bridge" when withBundle && i + 1 < args.Length:
                    bridge = args[++i];
                    break;
                case "--subnet" when withBundle && i + 1 < args.Length:
                    subnet = args[++i];
                    break;
                case "--force" or "-f" when !withBundle:
                    force = true;
                    break;
                default:
                    if (args[i].StartsWith('-') || id is not null)
                    {
                        throw new JailUsageException($"unexpected argument '{args[i]}'");
                    }
                    id = args[i];
                    break;
            }
        }
        if (id is null)
        {
            throw new JailUsageException("missing jail ID");
        }
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id.StartsWith('.'))
        {
            throw new JailUsageException($"jail ID '{id}' must be 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
        }
        return new JailArguments(id, bundle, pidFile, force, pool, ParseNetwork(network, bridge, subnet));
    }

    private static NetworkPlan? ParseNetwork(string? mode, string? bridge, string? subnet)
    {
        if (mode is null)
        {
            return bridge is null && subnet is null ? null : throw new JailUsageException("--bridge and --subnet go with --network bridge");
        }
        var parsed = mode switch
        {
            "bridge" => NetworkMode.Bridge,
            "none" => NetworkMode.None,
            "host" => NetworkMode.Host,
            _ => throw new JailUsageException($"--network '{mode}': expected bridge, none or host"),
        };
        if (subnet is not null && !System.Net.IPNetwork.TryParse(subnet, out _))
        {
            throw new JailUsageException($"--subnet '{subnet}' is not a CIDR such as 10.88.0.0/16");
        }
        return new NetworkPlan(parsed, bridge ?? JailNetworkConfig.DefaultBridgeName, subnet ?? "10.88.0.0/16");
    }
}

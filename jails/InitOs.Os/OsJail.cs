using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Machine;
using InitOs.Init.Supervision;
using InitOs.Init.Trust;
using InitOs.Jails.Network;
using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Jails.Storage;
using InitOs.Sidecar.Upgrades;
using InitOs.Sys;

namespace InitOs.Os;

/// <summary>
/// The jail modes' hand-off: at boot, the "os" phase finds the OS's image, readies the upper
/// layers (the data volume's pool, or a tmpfs without a btrfs data volume) and the OS's console;
/// then PID 1 supervises the OS as the service "os": each start takes a fresh upper layer and
/// launches the OS's init as PID 1 of its jail, each end frees what that run held. The OS's
/// reboot(2) (its init killed by SIGHUP) starts it again; its poweroff or halt (SIGINT) is
/// followed by the host, as [os] says.
/// </summary>
public sealed class OsJail
{
    public const string ServiceName = "os";
    public const string StateDirectory = "/run/initos/os";
    private const string TmpfsUpper = StateDirectory + "/upper";

    private readonly ISystem _system;
    private BootLog _log = BootLog.Instance;
    private OsJailOptions? _options;
    private OsConfig _config = new();
    private SubvolumePool? _pool;
    private OsConsole? _console;
    private Jail? _running;
    private (OverlayDirs Overlay, PoolLease Lease)? _kept;
    private int _starts;
    private BootContext? _context;
    private StagedOsImages? _staged;
    private bool _directoryProven;
    /// <summary>What this start's init stops on: [os] stop_signal, else what its image's init understands.</summary>
    private int _stopSignal;

    public OsJail(ISystem system) => _system = system;

    public Phase Phase => new("os",
    [
        new("load-jail-modules", LoadModules),
        new("find-os-image", FindImage),
        new("prepare-upper-layers", PrepareUpperLayers),
        new("open-os-console", OpenConsole),
    ], BootSequence.InJail);

    /// <summary>overlay for the root, bridge and veth for the jail's network (packed by modules.include; built-in ones are fine).</summary>
    private static void LoadModules(BootContext context)
    {
        RootTasks.EnsureFilesystem(context, "overlay");
        if (context.RequireSettings().Os.Network == "bridge")
        {
            OsEnds.LoadModules(context, ["bridge", "veth"], "the jail network");
        }
    }

    /// <summary>The image, its init and hostname; the stop signal its init understands.</summary>
    private void FindImage(BootContext context)
    {
        _log = context.Log;
        _context = context;
        var settings = context.RequireSettings();
        _config = settings.Os;
        string image = context.NewRoot, label = "the root device";
        if (_config.Image is { } name)
        {
            if (settings.Data is null)
            {
                throw new BootException($"os.image = \"{name}\" is on the data volume, and there is none ([data] device)");
            }
            if (settings.Upgrade.Enabled)
            {
                var upgrade = settings.Upgrade;
                _staged = new StagedOsImages(context, OsImageStore.OnDataVolume(name), new TrustPolicy(upgrade.Keys, upgrade.Compatible, upgrade.MinVersion), upgrade.Version!);
                OsEnds.LoadModules(context, ["loop"], "OS images staged from bundles");
            }
            if (_staged is { HasPointer: true })
            {
                // Which version runs is decided, and proven, at each start: an upgrade changes it without a host reboot.
                context.Log.Info($"os: image {name} from the pointer images/{name}{OsImageStore.PointerSuffix}: chosen and proven at each start");
                _options = Options(settings, image: "", hostname: "");
                return;
            }
            (image, label) = (DirectoryImage(context, settings, name), name);
        }
        var init = CheckInit(image);
        _config = _config with { StopSignal = _config.StopSignal ?? DefaultStopSignal(init) };
        _stopSignal = _config.StopSignal.Value;
        _options = Options(settings, image, _config.Hostname ?? HostnameOf(image));
        context.Log.Info($"os: image {image} ({label}), init {settings.Init}, hostname {_options.Hostname}, {(_options.Unprivileged ? "unprivileged (own user namespace)" : "privileged")}, stop signal {Signal.Name(_config.StopSignal.Value)}");
        context.Log.Info($"os: bounded by {_options.Limits!.Describe()}");
    }

    private OsJailOptions Options(BootSettings settings, string image, string hostname) => new()
    {
        Image = image,
        Init = settings.Init,
        InitArguments = settings.InitArguments,
        Hostname = hostname,
        Unprivileged = settings.Mode == BootMode.Unprivileged,
        HostNetwork = _config.Network == "host",
        Limits = OsLimits.For(_config, OsLimits.MemoryTotalBytes()),
    };

    /// <summary>images/NAME, a directory on the data volume, checked against its manifest.</summary>
    private string DirectoryImage(BootContext context, BootSettings settings, string name)
    {
        var image = Path.Combine(DataConfig.MountPoint, "images", name);
        if (!Directory.Exists(image))
        {
            throw new BootException($"os.image: {image} is not a directory on the data volume {settings.Data!.Device} (images there: {OsEnds.Listing(Path.GetDirectoryName(image)!, directoriesOnly: true)})");
        }
        if (!_directoryProven)
        {
            VerifyImage(context, settings, image, name);
            _directoryProven = true;
        }
        return image;
    }

    /// <summary>The init, resolved in the image; a BootException when it is not an executable file there.</summary>
    private string CheckInit(string image)
    {
        var init = _context!.RequireSettings().Init;
        var resolved = NewRootPaths.Resolve(_system, image, init);
        if (_system.Status(resolved, followSymlinks: false) is not { IsRegularFile: true, IsExecutable: true })
        {
            throw new BootException($"init {init} is not an executable file in the OS image {image} (resolved to {resolved})");
        }
        return resolved;
    }

    /// <summary>
    /// For a staged image, this start's: the pointer's trial or good version (mounted), or the
    /// directory image; its hostname. Written to /run/initos/os/image for the sidecar's judge.
    /// </summary>
    private OsJailOptions ChooseImage(OsJailOptions options)
    {
        if (_staged is not { HasPointer: true } staged)
        {
            WriteRunning(_config.Image is { } named ? named : "root");
            return options;
        }
        var context = _context!;
        var settings = context.RequireSettings();
        var chosen = staged.Take(directory => CheckInit(directory));
        string image, label;
        if (chosen is { } mounted)
        {
            (image, label) = mounted;
        }
        else
        {
            staged.LetGo();
            (image, label) = (DirectoryImage(context, settings, _config.Image!), _config.Image!);
        }
        _stopSignal = _config.StopSignal ?? DefaultStopSignal(CheckInit(image));
        WriteRunning(label);
        _log.Info($"os: start {_starts + 1} runs {label}");
        return options with { Image = image, Hostname = _config.Hostname ?? HostnameOf(image) };
    }

    /// <summary>What this start of the OS runs (NAME@V, NAME or root), for the sidecar's judge and `upgrade status`.</summary>
    internal static void WriteRunning(string label)
    {
        Directory.CreateDirectory(StateDirectory);
        File.WriteAllText(OsImageStore.RunningFile, label + "\n");
    }

    /// <summary>
    /// The image is on the unsigned data volume. A privileged OS is host root in all but name,
    /// so it runs only when the tree matches the manifest whose digest the signed config pins;
    /// an unprivileged one is checked when a digest is given.
    /// </summary>
    private static void VerifyImage(BootContext context, BootSettings settings, string image, string name)
    {
        if (settings.Os.ImageDigest is not { } digest)
        {
            if (settings.Mode == BootMode.Privileged)
            {
                throw new BootException($"os.image = \"{name}\" runs privileged, as host root in all but name, so its content must be pinned: set os.image_digest to the digest `initos build data --image {name}=DIR` printed");
            }
            context.Log.Warn($"os: the image {image} is not checked (no os.image_digest); it runs in its own user namespace");
            return;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            int entries = TreeManifest.Verify(image, image + ".manifest", digest);
            context.Log.Info($"os: image {image} matches its manifest ({digest[..19]}…): {entries} entries in {clock.Elapsed.TotalSeconds:F1} s");
        }
        catch (UntrustedFileException e)
        {
            throw new BootException("os.image: " + e.Message);
        }
    }

    /// <summary>systemd powers off on SIGRTMIN+3 in a container; busybox init (and sysvinit's compatible ones) on SIGUSR2.</summary>
    private static int DefaultStopSignal(string resolvedInit) =>
        resolvedInit.Contains("systemd", StringComparison.Ordinal) ? Signal.RtMin + 3 : Signal.Usr2;

    private static string HostnameOf(string image)
    {
        var file = Path.Combine(image, "etc/hostname");
        var name = File.Exists(file) ? File.ReadAllText(file).Trim() : "";
        return name.Length > 0 && name.Length <= 64 ? name : "initos";
    }

    /// <summary>A pool on a btrfs data volume (its leases freed: nothing runs yet); otherwise a tmpfs.</summary>
    private void PrepareUpperLayers(BootContext context)
    {
        if (context.RequireSettings().Data is not null && Btrfs.IsBtrfs(DataConfig.MountPoint))
        {
            var directory = Path.Combine(DataConfig.MountPoint, "pool");
            Directory.CreateDirectory(directory);
            _pool = File.Exists(Path.Combine(directory, PoolSettings.FileName))
                ? PoolSettings.Open(directory)
                : PoolSettings.Initialize(directory, _config.PoolSlots, (long)_config.PoolQuotaMiB << 20);
            _pool.ResetAll();
            context.Log.Info($"os: upper layers from the pool {directory} ({_pool.SlotCount} slots of {_pool.QuotaBytes >> 20} MiB, {_pool.QuotaKind} quotas)");
            return;
        }
        Directory.CreateDirectory(TmpfsUpper);
        _system.Mount("tmpfs", TmpfsUpper, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=0755");
        context.Log.Warn($"os: no btrfs data volume: the OS's upper layer is a tmpfs at {TmpfsUpper}, without a quota");
    }

    private void OpenConsole(BootContext context)
    {
        _console = OsConsole.OpenForOs(context, Path.Combine(StateDirectory, "console.log"));
    }

    /// <summary>The OS as PID 1 supervises it.</summary>
    public ServiceSpec Service() => new()
    {
        Name = ServiceName,
        Command = [_options?.Init ?? "/sbin/init"],
        Restart = RestartPolicy.Always,
        Start = Start,
        AfterExit = Ended,
        HostFollows = HostFollows,
        StopSignal = _config.StopSignal ?? Signal.Usr2,
        // Staged images may change the init from one start to the next: its stop signal is looked up at each stop.
        StopRequest = _staged is null ? null : ("sent its init's stop signal", () => Processes.Signal(_running?.Pid ?? throw new InvalidOperationException("the OS is not running"), _stopSignal)),
        StopGraceSeconds = _config.StopGraceSeconds,
        SignalGroup = false,
    };

    private int Start()
    {
        var options = ChooseImage(_options ?? throw new InvalidOperationException("the os phase did not run")) with { Start = ++_starts };
        var (overlay, lease) = TakeUpper();
        // A kept upper keeps its slot: only a fresh one is the jail's to give back when it ends.
        var owned = _config.KeepUpper ? null : lease;
        JailPlan plan;
        try
        {
            var bundle = new Bundle(StateDirectory, OsJailSpec.Create(options));
            plan = JailPlanner.Plan(bundle, OsJailSpec.Id, JailState.DirectoryOf(OsJailSpec.Id), overlay, owned) with
            {
                ProgramIsInit = true,
                IdmapLower = options.Unprivileged,
                Console = _console?.SlavePath,
                Network = Network(),
            };
        }
        catch
        {
            JailLauncher.ReleaseLease(owned);
            throw;
        }
        // From here the jail owns the slot: a failed create gives it back itself.
        _running = Jail.Create(plan, waitForStart: false, foreground: false);
        _log.Info($"os: start {_starts}: {options.Init} is PID 1 of jail {OsJailSpec.Id} (host pid {_running.Pid}), upper {overlay.Upper}");
        return _running.Pid;
    }

    private NetworkPlan Network() => _config.Network switch
    {
        "host" => new NetworkPlan(Jails.Network.NetworkMode.Host, JailNetworkConfig.DefaultBridgeName, "10.88.0.0/16"),
        "none" => new NetworkPlan(Jails.Network.NetworkMode.None, JailNetworkConfig.DefaultBridgeName, "10.88.0.0/16"),
        _ => new NetworkPlan(Jails.Network.NetworkMode.Bridge, JailNetworkConfig.DefaultBridgeName, "10.88.0.0/16"),
    };

    /// <summary>A fresh upper layer (or the kept one): a pool slot, or new directories on the tmpfs.</summary>
    private (OverlayDirs Overlay, PoolLease? Lease) TakeUpper()
    {
        if (_pool is not null)
        {
            if (_kept is { } kept)
            {
                return kept;
            }
            var slot = _pool.Take();
            var taken = (new OverlayDirs(slot.Upper, slot.Work), new PoolLease(_pool.Directory, slot.Index, slot.Lease));
            _kept = _config.KeepUpper ? taken : null;
            return taken;
        }
        var run = Path.Combine(TmpfsUpper, "run");
        if (!_config.KeepUpper && Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }
        var overlay = new OverlayDirs(Path.Combine(run, "upper"), Path.Combine(run, "work"));
        Directory.CreateDirectory(overlay.Upper);
        Directory.CreateDirectory(overlay.Work);
        return (overlay, null);
    }

    /// <summary>After every end: the jail's cgroup, network, id range, state and (unless kept) its upper layer.</summary>
    private void Ended(ChildExit exit)
    {
        _log.Info($"os: {OsEnds.Describe(EndOf(exit))} ({exit})");
        if (_running is { } jail)
        {
            _running = null;
            jail.Release();
        }
    }

    /// <summary>reboot(2) in a PID namespace kills its init with SIGHUP (restart) or SIGINT (power off, halt).</summary>
    private static OsEnd EndOf(ChildExit exit) =>
        exit.Exited ? OsEnd.Crash
        : exit.Signal == Signal.Hup ? OsEnd.Reboot
        : exit.Signal == Signal.Int ? OsEnd.PowerOff
        : OsEnd.Crash;

    private ShutdownKind? HostFollows(ChildExit exit) => OsEnds.HostFollows(_config, EndOf(exit));
}

using InitOs.Init.Modules;

namespace InitOs.Init.Boot.Tasks;

/// <summary>The modules phase: index, the configured list, then coldplug.</summary>
public static class ModuleTasks
{
    public static string ModuleDirectory(string root = "/") =>
        Path.Combine(root, "lib/modules", File.ReadAllText("/proc/sys/kernel/osrelease").Trim());

    public static void LoadIndex(BootContext context)
    {
        var dir = ModuleDirectory();
        if (!File.Exists(Path.Combine(dir, "modules.dep")))
        {
            context.Log.Info($"no {dir}/modules.dep: the initramfs carries no modules for this kernel");
            return;
        }
        context.ModuleIndex = ModuleIndex.Load(dir);
        var store = new ModuleStore(dir, context.Log);
        context.Modules = new ModuleLoader(context.ModuleIndex, dir, ModuleLoader.ReadProcModules(), store.Image is null ? null : store);
    }

    /// <summary>Before switch_root: the store's mount (and its loop device) go with the initramfs.</summary>
    public static void DetachStore(BootContext context) => context.Modules?.Store?.Detach();

    /// <summary>Modules a feature needs (built-in ones skipped); a missing one fails the boot naming it, <paramref name="purpose"/> and what to do.</summary>
    public static void LoadFor(BootContext context, IEnumerable<string> names, string purpose, string hint = "add it to modules.include")
    {
        foreach (var module in names)
        {
            if (context.ModuleIndex is not { } index || context.Modules is not { } modules || index.IsBuiltin(module))
            {
                continue;
            }
            if (!index.Contains(module))
            {
                throw new BootException($"{purpose}: the module {module} is needed, and the initramfs has none: {hint}");
            }
            modules.Load(module);
        }
    }

    public static void LoadConfigured(BootContext context)
    {
        var wanted = context.RequireSettings().Modules;
        if (wanted.Count == 0)
        {
            return;
        }
        var loader = context.Modules ?? throw new BootException($"modules {string.Join(", ", wanted)} are configured but the initramfs has no modules.dep");
        var inserted = wanted.SelectMany(loader.Load).ToList();
        context.Log.Info($"loaded {inserted.Count} configured modules: {string.Join(" ", inserted)}");
    }

    /// <summary>
    /// Listens for devices that appear from now on (before coldplug's scan: nothing falls between
    /// the two). Without coldplug, or when the kernel refuses the socket, boots go on without it.
    /// </summary>
    public static void StartHotplug(BootContext context)
    {
        if (!context.RequireSettings().Coldplug || context.ModuleIndex is null || context.Modules is null || context.Hotplug is not null)
        {
            return;
        }
        try
        {
            context.Hotplug = Hotplug.Start(context.ModuleIndex, context.Modules, context.Log);
        }
        catch (Sys.SysException e)
        {
            context.Log.Warn($"hotplug: {e.Message}; devices that appear after coldplug get no driver loaded");
        }
    }

    /// <summary>
    /// Loads what the hardware asks for. With the hotplug thread listening, on a thread of its
    /// own (one scan: hotplug loads for the devices the loads create) while the boot goes on;
    /// without it, here, in rounds until nothing new loads.
    /// </summary>
    public static void StartColdplug(BootContext context)
    {
        if (!context.RequireSettings().Coldplug || context.ModuleIndex is null || context.Modules is null)
        {
            return;
        }
        var coldplug = new Coldplug(context.ModuleIndex, context.Modules, context.Log, context.RequireSettings().ColdplugFirst);
        if (context.Hotplug is not null)
        {
            context.Coldplug = ColdplugRun.Start(coldplug, context.Log, rounds: 1, RootIsHere(context));
            return;
        }
        var inserted = coldplug.Run();
        context.Log.Info($"coldplug loaded {inserted.Count} modules: {string.Join(" ", inserted)}");
    }

    /// <summary>
    /// When the boot's only need of drivers is its root (switch_root with no network, sidecar or
    /// data volume, which would wait for coldplug), coldplug asks between tiers whether the root
    /// is there yet; once it is, the rest is left to the real OS's device manager, and the
    /// hand-off does not wait for a controller the root is not on to finish probing.
    /// </summary>
    private static Func<bool>? RootIsHere(BootContext context)
    {
        var settings = context.RequireSettings();
        if (settings.Mode != Config.BootMode.SwitchRoot || settings.Network.Mode != Config.NetworkMode.Off || settings.Sidecar.Ssh || settings.Data is not null || settings.Root is null)
        {
            return null;
        }
        Devices.RootSpec spec;
        try
        {
            spec = Devices.RootSpec.Parse(settings.Root);
        }
        catch (FormatException)
        {
            return null; // wait-for-root names the error
        }
        return () =>
        {
            try
            {
                return spec.Find(new Devices.BlockDeviceScanner().Scan()) is not null;
            }
            catch (InvalidOperationException)
            {
                return false; // two devices match: wait-for-root refuses the boot; the loads go on
            }
        };
    }

    /// <summary>A rerun while waiting for a device, when no run is under way; logs only when it loaded something.</summary>
    public static void ColdplugAgain(BootContext context)
    {
        if (!context.RequireSettings().Coldplug || context.ModuleIndex is null || context.Modules is null || context.Coldplug is { IsDone: false })
        {
            return;
        }
        var inserted = new Coldplug(context.ModuleIndex, context.Modules, context.Log, context.RequireSettings().ColdplugFirst).Run();
        if (inserted.Count > 0)
        {
            context.Log.Info($"coldplug loaded {inserted.Count} modules: {string.Join(" ", inserted)}");
        }
    }

    /// <summary>How long the boot waits for coldplug's loads before it goes on without the rest.</summary>
    public static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Before what needs every driver (the network, PID 1 staying the host): waits for coldplug's loads.</summary>
    public static void SettleColdplug(BootContext context)
    {
        if (context.Coldplug is { } run && !run.Wait(SettleTimeout))
        {
            context.Log.Warn($"coldplug: still loading after {SettleTimeout.TotalSeconds:F0} s (a driver's init that does not return); going on without it");
        }
    }

    /// <summary>Before switch_root: no new load; those under way finish. The real OS's device manager loads the rest.</summary>
    public static void StopColdplug(BootContext context)
    {
        if (context.Coldplug is { } run && !run.Stop(SettleTimeout))
        {
            context.Log.Warn($"coldplug: a load still under way after {SettleTimeout.TotalSeconds:F0} s; handing off all the same");
        }
    }
}

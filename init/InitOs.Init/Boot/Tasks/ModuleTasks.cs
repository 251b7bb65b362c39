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
        context.Modules = new ModuleLoader(context.ModuleIndex, dir, ModuleLoader.ReadProcModules());
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

    /// <summary>Loads what the hardware asks for; <paramref name="again"/> (a rerun while waiting for a device) logs only when it loaded something.</summary>
    public static void RunColdplug(BootContext context, bool again = false)
    {
        if (!context.RequireSettings().Coldplug || context.ModuleIndex is null || context.Modules is null)
        {
            return;
        }
        var inserted = new Coldplug(context.ModuleIndex, context.Modules, context.Log).Run();
        if (again && inserted.Count == 0)
        {
            return;
        }
        context.Log.Info($"coldplug loaded {inserted.Count} modules: {string.Join(" ", inserted)}");
    }
}

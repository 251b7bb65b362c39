using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>The root phase: make sure the kernel knows the filesystem, mount it, find its init.</summary>
public static class RootTasks
{
    public static void MountRoot(BootContext context, ISystem system)
    {
        var settings = context.RequireSettings();
        var device = context.RootDevice ?? throw new BootException("no root device was found");
        var fsType = settings.RootFsType ?? device.Filesystem?.Type
            ?? throw new BootException($"cannot tell the filesystem on {device.DevicePath}: no known superblock; give rootfstype=");
        EnsureFilesystem(context, fsType);
        system.MakeDirectory(context.NewRoot);
        var flags = settings.ReadWrite ? MountFlags.None : MountFlags.ReadOnly;
        system.Mount(device.DevicePath, context.NewRoot, fsType, flags, settings.RootFlags);
        context.RootFsType = fsType;
        context.Log.Info($"mounted {device.DevicePath} on {context.NewRoot} ({fsType}, {(settings.ReadWrite ? "rw" : "ro")}{(string.IsNullOrEmpty(settings.RootFlags) ? "" : ", " + settings.RootFlags)})");
    }

    /// <summary>Loads the filesystem's module through its fs-TYPE alias when the kernel does not know the type yet.</summary>
    public static void EnsureFilesystem(BootContext context, string fsType, string procFilesystems = "/proc/filesystems")
    {
        if (KnownFilesystems(procFilesystems).Contains(fsType))
        {
            return;
        }
        var modules = context.ModuleIndex?.MatchAlias("fs-" + fsType) ?? [];
        if (modules.Count == 0 || context.Modules is null)
        {
            throw new BootException($"the kernel has no {fsType} support and the initramfs has no module for it (alias fs-{fsType})");
        }
        foreach (var module in modules)
        {
            context.Modules.Load(module);
        }
    }

    private static HashSet<string> KnownFilesystems(string procFilesystems) =>
        File.ReadLines(procFilesystems).Select(l => l.Split('\t').Last().Trim()).ToHashSet();

    public static void CheckInit(BootContext context, ISystem system)
    {
        var init = context.RequireSettings().Init;
        var resolved = NewRootPaths.Resolve(system, context.NewRoot, init);
        var status = system.Status(resolved, followSymlinks: false);
        if (status is not { IsRegularFile: true, IsExecutable: true })
        {
            throw new BootException($"init {init} is not an executable file in the new root ({context.RootDevice?.DevicePath}, resolved to {resolved})");
        }
    }
}

using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// switch_root with busybox's and systemd's semantics: the new root must be a mount point
/// holding the init; /dev, /proc, /sys and /run move into it; the initramfs is emptied
/// (never crossing into another filesystem); then the new root is moved onto /, chrooted
/// into, and its init exec'd as PID 1 with the console on stdin/stdout/stderr.
/// </summary>
public static class SwitchRootTasks
{
    public static readonly IReadOnlyList<string> ApiMounts = ["/dev", "/proc", "/sys", "/run"];

    public static void VerifyNewRoot(BootContext context, ISystem system)
    {
        var root = system.Status("/") ?? throw new BootException("cannot stat /");
        var newRoot = system.Status(context.NewRoot) ?? throw new BootException($"{context.NewRoot} does not exist");
        if (newRoot.SameDevice(root))
        {
            throw new BootException($"{context.NewRoot} is not a mount point: refusing to switch into the initramfs itself");
        }
        RootTasks.CheckInit(context, system);
    }

    public static void MoveApiMounts(BootContext context, ISystem system)
    {
        foreach (var mount in ApiMounts)
        {
            var target = context.NewRoot + mount;
            if (system.Status(target, followSymlinks: true) is { IsDirectory: true })
            {
                system.Mount(mount, target, null, MountFlags.Move, null);
            }
            else
            {
                // The new root has no place for it; the OS will mount its own. Detach ours so it is not leaked.
                context.Log.Warn($"{target} is missing in the new root; detaching {mount}");
                system.Unmount(mount, UnmountFlags.Detach);
            }
        }
    }

    public static void FreeInitramfs(BootContext context, ISystem system) => system.RemoveTreeOnOneFilesystem("/");

    public static void PrepareHandoff(BootContext context, ISystem system)
    {
        var settings = context.RequireSettings();
        var argv = new List<string> { settings.Init };
        argv.AddRange(settings.InitArguments);
        var env = Environment.GetEnvironmentVariables().Keys.Cast<string>().Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToList();
        context.Handoff = () => Handoff(context, system, argv, env);
    }

    private static void Handoff(BootContext context, ISystem system, IReadOnlyList<string> argv, IReadOnlyList<string> env)
    {
        system.ChangeDirectory(context.NewRoot);
        system.Mount(".", "/", null, MountFlags.Move, null);
        system.ChangeRoot(".");
        system.ChangeDirectory("/");
        system.AttachStdio("/dev/console");
        context.Log.Info($"exec {string.Join(' ', argv)} on {context.RootDevice?.DevicePath} ({context.RootFsType})");
        context.Log.RestoreRateLimit();
        system.Exec(argv[0], argv, env);
    }
}

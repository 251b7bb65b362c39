using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// When InitOS stays PID 1 (no switch_root), it makes the initramfs a host jails can be run
/// from: off rootfs (pivot_root refuses a root that has no parent mount), cgroup2 for jail
/// limits, and shared propagation so host mounts reach jails whose trees are rslave.
/// </summary>
public static class HostRootTasks
{
    /// <summary>A directory on rootfs used once, as the mount point of rootfs's own bind.</summary>
    public const string StagingRoot = "/.initos-root";
    public const string CgroupRoot = "/sys/fs/cgroup";

    /// <summary>
    /// Bind rootfs onto a directory of itself, move the API mounts into the bind, move the bind
    /// onto / and chroot into it: the same files, but now a mount with a parent. Nothing is copied.
    /// </summary>
    public static void LeaveRootfs(BootContext context, ISystem system)
    {
        system.MakeDirectory(StagingRoot, 0x1C0);
        system.Mount("/", StagingRoot, null, MountFlags.Bind, null);
        foreach (var mount in SwitchRootTasks.ApiMounts)
        {
            system.Mount(mount, StagingRoot + mount, null, MountFlags.Move, null);
        }
        if (context.Modules?.Store is { IsMounted: true } store)
        {
            // Hotplug loads from it for as long as PID 1 runs the OS.
            system.Mount(store.MountPoint, StagingRoot + store.MountPoint, null, MountFlags.Move, null);
        }
        system.ChangeDirectory(StagingRoot);
        system.Mount(".", "/", null, MountFlags.Move, null);
        system.ChangeRoot(".");
        system.ChangeDirectory("/");
        // Seen from the new root, the staging directory is an empty directory again.
        system.RemoveDirectory(StagingRoot);
    }

    /// <summary>Pure cgroup2 with nsdelegate, so a jail's cgroup namespace is a delegation boundary.</summary>
    public static void MountCgroup2(BootContext context, ISystem system)
    {
        try
        {
            system.Mount("cgroup2", CgroupRoot, "cgroup2", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "nsdelegate");
        }
        catch (SysException e) when (e.Errno is Errno.ENODEV or Errno.ENOENT)
        {
            context.Log.Warn($"cgroup2 is not available ({e.Message}): jails run without resource limits");
        }
    }

    /// <summary>Jails make their copy of the tree rslave: host mounts flow in, nothing flows back.</summary>
    public static void ShareMounts(BootContext context, ISystem system) =>
        system.Mount(null, "/", null, MountFlags.Recursive | MountFlags.Shared, null);
}

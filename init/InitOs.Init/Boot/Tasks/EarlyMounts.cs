using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>The kernel filesystems every later phase needs, as a list of mounts (data, not code).</summary>
public static class EarlyMounts
{
    public sealed record MountEntry(string Source, string Target, string FsType, MountFlags Flags, string? Data);

    private const MountFlags Hardened = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec;

    public static readonly IReadOnlyList<MountEntry> Table =
    [
        new("proc", "/proc", "proc", Hardened, null),
        new("sysfs", "/sys", "sysfs", Hardened, null),
        new("devtmpfs", "/dev", "devtmpfs", MountFlags.NoSuid, "mode=0755"),
        new("devpts", "/dev/pts", "devpts", MountFlags.NoSuid | MountFlags.NoExec, "gid=5,mode=0620,ptmxmode=0666"),
        new("tmpfs", "/dev/shm", "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=1777"),
        new("tmpfs", "/run", "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=0755"),
    ];

    public static void MountAll(ISystem system)
    {
        foreach (var entry in Table)
        {
            system.MakeDirectory(entry.Target);
            try
            {
                system.Mount(entry.Source, entry.Target, entry.FsType, entry.Flags, entry.Data);
            }
            catch (SysException e) when (e.Errno == Errno.EBUSY)
            {
                // Already mounted (a kernel with CONFIG_DEVTMPFS_MOUNT, or a retried phase).
            }
        }
    }

    /// <summary>The kernel opened /dev/console for us only if the initramfs had the node; now devtmpfs has it.</summary>
    public static void AttachConsole(ISystem system) => system.AttachStdio("/dev/console");
}

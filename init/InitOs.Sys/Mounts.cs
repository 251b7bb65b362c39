using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>mount(2) and umount2(2), with the arguments in the error.</summary>
public static class Mounts
{
    public static void Mount(string? source, string target, string? fstype, MountFlags flags, string? data)
    {
        if (Libc.Mount(source, target, fstype, (ulong)flags, string.IsNullOrEmpty(data) ? null : data) < 0)
        {
            throw SysException.FromLastError($"mount({source ?? "none"}, {target}, {fstype ?? "-"}, {flags}{(string.IsNullOrEmpty(data) ? "" : ", " + data)})");
        }
    }

    public static void Unmount(string target, UnmountFlags flags = UnmountFlags.None)
    {
        if (Libc.Umount2(target, (int)flags) < 0)
        {
            throw SysException.FromLastError($"umount({target})");
        }
    }

    /// <summary>pivot_root(2): <paramref name="newRoot"/> becomes /, the old root moves to <paramref name="putOld"/>.</summary>
    public static void PivotRoot(string newRoot, string putOld)
    {
        const long SysPivotRoot = 155;
        if (Interop.Libc.SyscallPivotRoot(SysPivotRoot, newRoot, putOld) < 0)
        {
            throw SysException.FromLastError($"pivot_root({newRoot}, {putOld})");
        }
    }

    /// <summary>
    /// An idmapped copy of the mount tree at <paramref name="source"/> attached at <paramref name="target"/>,
    /// mapped through the user namespace of <paramref name="usernsPath"/> (/proc/PID/ns/user, maps written).
    /// </summary>
    public static void MountIdmapped(string source, string usernsPath, string target)
    {
        int userns = Files.Open(usernsPath, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            int result = Interop.Native.IdmappedMount(source, userns, target, out int step);
            if (result < 0)
            {
                var call = step switch { 1 => "open_tree", 2 => "mount_setattr(MOUNT_ATTR_IDMAP)", _ => "move_mount" };
                throw new SysException($"{call}({source} → {target})", (Errno)(-result));
            }
        }
        finally
        {
            Files.Close(userns);
        }
    }

    /// <summary>
    /// mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY): the mount at <paramref name="target"/> and
    /// every mount below it read-only (a remount changes only the top one of a recursive bind).
    /// </summary>
    public static unsafe void MakeTreeReadOnly(string target)
    {
        const long mountSetattr = 442;
        const uint atRecursive = 0x8000;
        const ulong readOnly = 0x1;
        var attr = new Libc.MountAttr { Set = readOnly };
        if (Libc.SyscallMountSetattr(mountSetattr, -100, target, atRecursive, &attr, (nuint)sizeof(Libc.MountAttr)) < 0)
        {
            throw SysException.FromLastError($"mount_setattr({target}, recursive read-only)");
        }
    }
}

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

    /// <summary>
    /// open_tree(OPEN_TREE_CLONE): a detached copy of the mount at <paramref name="source"/> (with
    /// the mounts below it when <paramref name="recursive"/>), as an fd another mount namespace
    /// can attach with <see cref="MoveMount"/> (a bind made here, for a jail whose root may not reach the source).
    /// </summary>
    public static unsafe int OpenTreeClone(string source, bool recursive)
    {
        const long openTree = 428;
        const uint clone = 1, cloexec = 0x80000, atRecursive = 0x8000;
        long fd = Libc.SyscallOpenTree(openTree, -100, source, clone | cloexec | (recursive ? atRecursive : 0));
        return fd >= 0 ? (int)fd : throw SysException.FromLastError($"open_tree({source})");
    }

    /// <summary>move_mount: attaches the detached tree <paramref name="treeFd"/> onto the place <paramref name="targetFd"/> (an O_PATH fd) is.</summary>
    public static void MoveMount(int treeFd, int targetFd)
    {
        const long moveMount = 429;
        const uint fromEmptyPath = 0x4, toEmptyPath = 0x40;
        if (Libc.SyscallMoveMount(moveMount, treeFd, "", targetFd, "", fromEmptyPath | toEmptyPath) < 0)
        {
            throw SysException.FromLastError($"move_mount(fd {treeFd} → fd {targetFd})");
        }
    }
}

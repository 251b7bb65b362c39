using System.Buffers.Binary;
using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// btrfs subvolumes and quotas through the kernel's ioctls (no btrfs-progs at run time).
/// Every failure is a <see cref="SysException"/> naming the ioctl and the path.
/// </summary>
public static unsafe class Btrfs
{
    /// <summary>BTRFS_SUPER_MAGIC, the f_type statfs(2) reports for btrfs.</summary>
    public const long SuperMagic = 0x9123683E;

    /// <summary>BTRFS_FIRST_FREE_OBJECTID: the inode number of every subvolume's top directory.</summary>
    private const ulong SubvolumeRootInode = 256;

    public static bool IsBtrfs(string path) => FileSystems.Status(path).Type == SuperMagic;

    /// <summary>True when <paramref name="path"/> is the top directory of a subvolume (not a plain directory in one).</summary>
    public static bool IsSubvolume(string path) => IsBtrfs(path) && InodeNumber(path) == SubvolumeRootInode;

    /// <summary>Creates the empty subvolume <paramref name="parentDirectory"/>/<paramref name="name"/>.</summary>
    public static void CreateSubvolume(string parentDirectory, string name)
    {
        var args = VolumeArgs(name);
        Ioctl(parentDirectory, BtrfsIoctl.SubvolCreateV2, "BTRFS_IOC_SUBVOL_CREATE_V2", Path.Combine(parentDirectory, name), &args);
    }

    /// <summary>
    /// Deletes the subvolume <paramref name="parentDirectory"/>/<paramref name="name"/> with everything in it.
    /// Non-empty subvolumes need CAP_SYS_ADMIN (or the user_subvol_rm_allowed mount option and
    /// permission on every file); the space comes back later, when the kernel's cleaner drops the tree.
    /// </summary>
    public static void DeleteSubvolume(string parentDirectory, string name)
    {
        var args = VolumeArgs(name);
        Ioctl(parentDirectory, BtrfsIoctl.SnapDestroyV2, "BTRFS_IOC_SNAP_DESTROY_V2", Path.Combine(parentDirectory, name), &args);
    }

    /// <summary>The id (tree objectid) of the subvolume <paramref name="path"/> is in; also its level-0 qgroup id.</summary>
    public static ulong SubvolumeId(string path)
    {
        // treeid 0 asks "which tree is this fd in"; objectid 256 makes the kernel skip the path
        // walk, which is what lets this query run without CAP_SYS_ADMIN.
        var args = new BtrfsInoLookupArgs { TreeId = 0, ObjectId = SubvolumeRootInode };
        Ioctl(path, BtrfsIoctl.InoLookup, "BTRFS_IOC_INO_LOOKUP", path, &args);
        return args.TreeId;
    }

    /// <summary>
    /// Turns quota accounting on for the filesystem <paramref name="path"/> is on. When quotas are
    /// already on (of either kind) the kernel leaves them as they are and succeeds.
    /// </summary>
    public static void EnableQuotas(string path, BtrfsQuotaKind kind)
    {
        var args = new BtrfsQuotaCtlArgs { Command = (ulong)kind };
        Ioctl(path, BtrfsIoctl.QuotaCtl, $"BTRFS_IOC_QUOTA_CTL cmd {(ulong)kind} ({kind})", path, &args);
    }

    /// <summary>True while simple quotas are the accounting in force (the SIMPLE_QUOTA incompat feature is set).</summary>
    public static bool SimpleQuotasEnabled(string path)
    {
        var flags = default(BtrfsFeatureFlags);
        Ioctl(path, BtrfsIoctl.GetFeatures, "BTRFS_IOC_GET_FEATURES", path, &flags);
        return (flags.Incompat & BtrfsFeatureFlags.IncompatSimpleQuota) != 0;
    }

    /// <summary>
    /// Caps the referenced and the exclusive bytes of qgroup 0/<paramref name="subvolumeId"/>
    /// at <paramref name="maxBytes"/>; writes beyond it fail with EDQUOT.
    /// </summary>
    public static void LimitQgroup(string path, ulong subvolumeId, ulong maxBytes)
    {
        var args = new BtrfsQgroupLimitArgs
        {
            QgroupId = subvolumeId, // level 0 in the top 16 bits: the subvolume's own qgroup
            Limit = new BtrfsQgroupLimit
            {
                Flags = BtrfsQgroupLimit.MaxReferenced | BtrfsQgroupLimit.MaxExclusive,
                MaxReferencedBytes = maxBytes,
                MaxExclusiveBytes = maxBytes,
            },
        };
        Ioctl(path, BtrfsIoctl.QgroupLimit, $"BTRFS_IOC_QGROUP_LIMIT 0/{subvolumeId}", path, &args);
    }

    private static BtrfsVolArgsV2 VolumeArgs(string name)
    {
        if (name.Length == 0 || name == "." || name == ".." || name.Contains('/') || name.Contains('\0'))
        {
            throw new ArgumentException($"'{name}' is not a subvolume name (one path component)", nameof(name));
        }
        var args = default(BtrfsVolArgsV2);
        var buffer = new Span<byte>(args.Name, BtrfsVolArgsV2.SubvolNameMax); // the last byte stays NUL
        if (!Encoding.UTF8.TryGetBytes(name, buffer, out _))
        {
            throw new ArgumentException($"subvolume name is longer than {BtrfsVolArgsV2.SubvolNameMax} bytes: {name}", nameof(name));
        }
        return args;
    }

    private static void Ioctl(string directory, uint request, string requestName, string target, void* argument)
    {
        int fd = Files.Open(directory, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.CloseOnExec);
        try
        {
            if (Libc.Ioctl(fd, request, (nint)argument) < 0)
            {
                throw SysException.FromLastError($"ioctl({requestName}, {target})");
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }

    private static ulong InodeNumber(string path)
    {
        const int atFdCwd = -100, statxIno = 0x100, statxSize = 256;
        byte* buffer = stackalloc byte[statxSize];
        if (Libc.Statx(atFdCwd, path, 0, statxIno, buffer) < 0)
        {
            throw SysException.FromLastError($"statx({path})");
        }
        return BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(buffer + 32, 8)); // stx_ino@32
    }
}

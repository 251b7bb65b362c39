using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

// The kernel's btrfs ioctl argument structs (include/uapi/linux/btrfs.h), field for field.
// Their sizes go into the ioctl request numbers (see BtrfsIoctl), so a wrong layout
// shows up as a wrong request number, which the tests compare against the C header.

/// <summary>struct btrfs_ioctl_vol_args_v2 (4096 bytes): names a subvolume to create or destroy.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BtrfsVolArgsV2
{
    /// <summary>BTRFS_SUBVOL_NAME_MAX: the name buffer holds this many bytes plus the terminating NUL.</summary>
    internal const int SubvolNameMax = 4039;

    public long Fd;
    public ulong TransId;
    public ulong Flags;
    public fixed ulong Unused[4];           // union { size + qgroup_inherit pointer; unused[4] }
    public fixed byte Name[SubvolNameMax + 1]; // union { name; devid; subvolid }
}

/// <summary>struct btrfs_ioctl_ino_lookup_args (4096 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BtrfsInoLookupArgs
{
    public ulong TreeId;
    public ulong ObjectId;
    public fixed byte Name[4080];           // BTRFS_INO_LOOKUP_PATH_MAX
}

/// <summary>struct btrfs_ioctl_quota_ctl_args (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtrfsQuotaCtlArgs
{
    public ulong Command;
    public ulong Status;
}

/// <summary>struct btrfs_qgroup_limit (40 bytes); which fields count is said by Flags (BTRFS_QGROUP_LIMIT_*).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtrfsQgroupLimit
{
    internal const ulong MaxReferenced = 1 << 0;
    internal const ulong MaxExclusive = 1 << 1;

    public ulong Flags;
    public ulong MaxReferencedBytes;
    public ulong MaxExclusiveBytes;
    public ulong ReservedReferencedBytes;
    public ulong ReservedExclusiveBytes;
}

/// <summary>struct btrfs_ioctl_qgroup_limit_args (48 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtrfsQgroupLimitArgs
{
    public ulong QgroupId;
    public BtrfsQgroupLimit Limit;
}

/// <summary>struct btrfs_ioctl_feature_flags (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtrfsFeatureFlags
{
    /// <summary>BTRFS_FEATURE_INCOMPAT_SIMPLE_QUOTA: set while simple quotas are enabled.</summary>
    internal const ulong IncompatSimpleQuota = 1 << 16;

    public ulong Compat;
    public ulong CompatReadOnly;
    public ulong Incompat;
}

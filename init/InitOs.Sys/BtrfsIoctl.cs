using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// The btrfs ioctl request numbers InitOS uses, built like linux/btrfs.h builds them:
/// _IOC(direction, 0x94, number, sizeof(argument struct)). Public so tests can compare them
/// with the C header; the values on x86-64 and arm64 are given next to each.
/// </summary>
public static unsafe class BtrfsIoctl
{
    private const uint Magic = 0x94; // BTRFS_IOCTL_MAGIC

    /// <summary>BTRFS_IOC_SUBVOL_CREATE_V2 = _IOW(0x94, 24, struct btrfs_ioctl_vol_args_v2) = 0x50009418.</summary>
    public static readonly uint SubvolCreateV2 = Ioc.Write(Magic, 24, sizeof(BtrfsVolArgsV2));

    /// <summary>BTRFS_IOC_SNAP_DESTROY_V2 = _IOW(0x94, 63, struct btrfs_ioctl_vol_args_v2) = 0x5000943F.</summary>
    public static readonly uint SnapDestroyV2 = Ioc.Write(Magic, 63, sizeof(BtrfsVolArgsV2));

    /// <summary>BTRFS_IOC_INO_LOOKUP = _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args) = 0xD0009412.</summary>
    public static readonly uint InoLookup = Ioc.ReadWrite(Magic, 18, sizeof(BtrfsInoLookupArgs));

    /// <summary>BTRFS_IOC_QUOTA_CTL = _IOWR(0x94, 40, struct btrfs_ioctl_quota_ctl_args) = 0xC0109428.</summary>
    public static readonly uint QuotaCtl = Ioc.ReadWrite(Magic, 40, sizeof(BtrfsQuotaCtlArgs));

    /// <summary>
    /// BTRFS_IOC_QGROUP_LIMIT = _IOR(0x94, 43, struct btrfs_ioctl_qgroup_limit_args) = 0x8030942B.
    /// _IOR although user space passes the limit in: the header has always said so, and the number is ABI.
    /// </summary>
    public static readonly uint QgroupLimit = Ioc.Read(Magic, 43, sizeof(BtrfsQgroupLimitArgs));

    /// <summary>BTRFS_IOC_GET_FEATURES = _IOR(0x94, 57, struct btrfs_ioctl_feature_flags) = 0x80189439.</summary>
    public static readonly uint GetFeatures = Ioc.Read(Magic, 57, sizeof(BtrfsFeatureFlags));
}

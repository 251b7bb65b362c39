namespace InitOs.Sys;

/// <summary>
/// The two btrfs quota accountings; the values are the BTRFS_IOC_QUOTA_CTL commands that enable them.
/// </summary>
public enum BtrfsQuotaKind : ulong
{
    /// <summary>Classic qgroups (BTRFS_QUOTA_CTL_ENABLE): exact shared/exclusive accounting, costly backref walks.</summary>
    Qgroups = 1,

    /// <summary>Simple quotas (BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA, Linux 6.7+): extents are charged to the subvolume that wrote them.</summary>
    Simple = 4,
}

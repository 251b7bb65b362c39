using System.Globalization;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.JailTests.Storage;

/// <summary>The ioctl layer: request numbers (which encode the struct sizes) against the kernel header, and its errors.</summary>
public sealed class BtrfsIoctlTests
{
    [Fact]
    public void Request_numbers_match_linux_btrfs_h()
    {
        using var scratch = new TempDirectory();
        string source = scratch.File("ioctls.c");
        File.WriteAllText(source, """
            #include <stdio.h>
            #include <linux/btrfs.h>
            int main(void) {
                printf("%lx %lx %lx %lx %lx %lx\n",
                    (unsigned long)BTRFS_IOC_SUBVOL_CREATE_V2, (unsigned long)BTRFS_IOC_SNAP_DESTROY_V2,
                    (unsigned long)BTRFS_IOC_INO_LOOKUP, (unsigned long)BTRFS_IOC_QUOTA_CTL,
                    (unsigned long)BTRFS_IOC_QGROUP_LIMIT, (unsigned long)BTRFS_IOC_GET_FEATURES);
                return 0;
            }
            """);
        Tool.Run("gcc", "-o", scratch.File("ioctls"), source);

        uint[] fromHeader = [.. Tool.Run(scratch.File("ioctls")).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(hex => uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];

        Assert.Equal(fromHeader, new[] { BtrfsIoctl.SubvolCreateV2, BtrfsIoctl.SnapDestroyV2, BtrfsIoctl.InoLookup, BtrfsIoctl.QuotaCtl, BtrfsIoctl.QgroupLimit, BtrfsIoctl.GetFeatures });
    }

    [Fact]
    public void A_failing_ioctl_names_the_ioctl_and_the_path()
    {
        using var btrfs = new BtrfsLoop();
        Btrfs.CreateSubvolume(btrfs.MountPoint, "twice");
        string subvolume = Path.Combine(btrfs.MountPoint, "twice");

        var exists = Assert.Throws<SysException>(() => Btrfs.CreateSubvolume(btrfs.MountPoint, "twice"));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        Assert.Contains($"BTRFS_IOC_SUBVOL_CREATE_V2, {subvolume}", exists.Message);

        Btrfs.DeleteSubvolume(btrfs.MountPoint, "twice");
        var gone = Assert.Throws<SysException>(() => Btrfs.DeleteSubvolume(btrfs.MountPoint, "twice"));
        Assert.Equal(Errno.ENOENT, gone.Errno);
        Assert.Contains($"BTRFS_IOC_SNAP_DESTROY_V2, {subvolume}", gone.Message);
    }
}

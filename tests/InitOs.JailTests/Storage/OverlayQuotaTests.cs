using InitOs.Jails.Storage;
using InitOs.Sys;
using Xunit.Abstractions;

namespace InitOs.JailTests.Storage;

/// <summary>A jail's overlay on a pool slot: filling its disk stops at the slot's quota and costs nothing outside.</summary>
public sealed class OverlayQuotaTests(ITestOutputHelper output)
{
    private const long Quota = 32L << 20;

    [Fact]
    public void A_disk_filler_in_the_overlay_stops_with_EDQUOT_at_the_quota_and_the_host_keeps_its_space()
    {
        using var btrfs = new BtrfsLoop();
        using var host = new TmpfsMount(); // the jail's host side: lower image and mount point
        string poolDirectory = Path.Combine(btrfs.MountPoint, "pool");
        Directory.CreateDirectory(poolDirectory);
        var pool = new SubvolumePool(poolDirectory, 2, Quota);
        pool.Ensure();
        var slot = pool.Take();
        string lower = Path.Combine(host.Path, "lower");
        string merged = Path.Combine(host.Path, "merged");
        Directory.CreateDirectory(lower);
        Directory.CreateDirectory(merged);
        File.WriteAllText(Path.Combine(lower, "os-release"), "ID=test\n");

        Files.Sync();
        long hostFreeBefore = host.FreeBytes;
        long imageBefore = btrfs.ImageAllocatedBytes();
        long poolFreeBefore = (long)FileSystems.Status(poolDirectory).AvailableBytes;
        Mounts.Mount("overlay", merged, "overlay", MountFlags.None, $"lowerdir={lower},upperdir={slot.Upper},workdir={slot.Work}");
        (string Refusal, long Bytes) filled;
        try
        {
            filled = DiskFiller.FillUntilRefused(Path.Combine(merged, "fill"));
        }
        finally
        {
            BtrfsLoop.UnmountEvenIfBusy(merged);
        }
        Files.Sync();
        long hostSpent = hostFreeBefore - host.FreeBytes;
        long imageGrowth = btrfs.ImageAllocatedBytes() - imageBefore;
        long poolSpent = poolFreeBefore - (long)FileSystems.Status(poolDirectory).AvailableBytes;
        output.WriteLine($"quota {Quota}, {pool.QuotaKind}: filler wrote {filled.Bytes} bytes; host side spent {hostSpent}, image file grew {imageGrowth}, btrfs available fell {poolSpent}");

        Assert.Contains("Disk quota exceeded", filled.Refusal);
        Assert.InRange(filled.Bytes, Quota - (4L << 20), Quota);
        Assert.Equal(filled.Bytes, new FileInfo(Path.Combine(slot.Upper, "fill")).Length);
        Assert.False(File.Exists(Path.Combine(lower, "fill")));
        // Outside the slot nothing is spent: not the host side's filesystem, and of the file that
        // backs the btrfs, only the quota plus a little btrfs metadata.
        Assert.InRange(hostSpent, -(64L << 10), 64L << 10);
        Assert.InRange(imageGrowth, 0, Quota + (8L << 20));
        Assert.InRange(poolSpent, 0, Quota + (8L << 20));
    }
}

using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sys;

/// <summary>The loop device PID 1 mounts the generic image's module store with, on this host's kernel.</summary>
public sealed class LoopDeviceTests
{
    [Fact]
    public void A_squashfs_image_attached_read_only_mounts_reads_and_frees_its_loop_device_when_unmounted()
    {
        using var dir = new TempDirectory("initos-loop-");
        Directory.CreateDirectory(dir.File("tree/kernel"));
        File.WriteAllText(dir.File("tree/kernel/hello.ko"), "module bytes\n");
        Tool.Run("mksquashfs", dir.File("tree"), dir.File("store.sqfs"), "-quiet", "-noappend", "-comp", "xz");
        var mountPoint = Directory.CreateDirectory(dir.File("mnt")).FullName;

        string device;
        using (var loop = LoopDevice.AttachReadOnly(dir.File("store.sqfs")))
        {
            device = loop.Path;
            Assert.Matches(@"^/dev/loop\d+$", device);
            Assert.Equal("1", File.ReadAllText($"/sys/block/{Path.GetFileName(device)}/ro").Trim());
            Mounts.Mount(device, mountPoint, "squashfs", MountFlags.ReadOnly, null);
        }
        try
        {
            // The handle is closed: the mount alone holds the device now.
            Assert.Equal("module bytes\n", File.ReadAllText(Path.Combine(mountPoint, "kernel/hello.ko")));
            Assert.Equal(dir.File("store.sqfs"), File.ReadAllText($"/sys/block/{Path.GetFileName(device)}/loop/backing_file").Trim());
        }
        finally
        {
            Mounts.Unmount(mountPoint);
        }
        // Autoclear: with the mount gone the device lets go of the file.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (File.Exists($"/sys/block/{Path.GetFileName(device)}/loop/backing_file") && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.False(File.Exists($"/sys/block/{Path.GetFileName(device)}/loop/backing_file"), $"{device} still holds its file");
    }

    [Fact]
    public void A_missing_image_is_named()
    {
        var e = Assert.Throws<SysException>(() => LoopDevice.AttachReadOnly("/nonexistent/modules.sqfs"));
        Assert.Contains("/nonexistent/modules.sqfs", e.Message, StringComparison.Ordinal);
    }
}

using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A real distribution as the OS: Debian bookworm (minbase, systemd, udev) made by the build
/// tool's debootstrap path, reaching systemd's multi-user.target (its marker unit runs after it).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class DebianBootTests
{
    internal const string Label = DebianImage.Label;
    private readonly BootImages _images;

    public DebianBootTests(BootImages images) => _images = images;

    /// <summary>
    /// In a privileged jail (InitOS stays PID 1): systemd sees a container and reaches
    /// multi-user.target. A switch_root into this image, with the sidecar as systemd's unit and as
    /// the initramfs's, is DebianUpgradeBootTests'.
    /// </summary>
    [Fact]
    public void Debian_with_systemd_reaches_multi_user_in_a_privileged_jail()
    {
        using var vm = new VmBoot($"{nameof(DebianBootTests)}-privileged", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = _images.Initramfs,
            Disks = [Copy(_images, "debian-privileged.img")],
            Append = $"console=ttyS0 panic=-1 quiet root=LABEL={Label} initos.mode=privileged",
            MemoryMiB = 1024,
        });
        var up = vm.Expect($@"{DebianRootfs.Marker} uptime=[\d.]+ pid1=systemd virt=(?<virt>\S+) target=multi-user rootfs=(?<fs>\S+)", TimeSpan.FromSeconds(300));
        Assert.NotEqual("none", up.Groups["virt"].Value);
        Assert.Equal("overlay", up.Groups["fs"].Value);
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>A copy of the Debian root image (built once and cached under .cache/), in this run's scratch directory.</summary>
    internal static string Copy(BootImages images, string name)
    {
        var cached = DebianImage.Cached();
        var copy = images.Scratch(name);
        Tool.Run("cp", "--sparse=always", cached, copy);
        return copy;
    }
}

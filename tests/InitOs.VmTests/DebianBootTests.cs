using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A real distribution as the OS: Debian bookworm (minbase, systemd) made by the build tool's
/// debootstrap path, booted by InitOS with switch_root and in a privileged jail, reaching
/// systemd's multi-user.target (its marker unit runs after it).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class DebianBootTests
{
    internal const string Label = DebianImage.Label;
    private readonly BootImages _images;

    public DebianBootTests(BootImages images) => _images = images;

    [Theory]
    [InlineData("switch_root", "none", "ext4")]
    [InlineData("privileged", @"(?!none)\S+", "overlay")]
    public void Debian_with_systemd_reaches_multi_user(string mode, string virt, string rootfs)
    {
        // switch_root: the sidecar stays behind as the admin door, and reboots systemd the way systemd wants.
        using var keys = new TempDirectory("initos-debian-keys-");
        var key = keys.File("admin");
        SidecarSshBootTests.NewKey(key);
        int port = SidecarSshBootTests.FreePort();
        bool sidecar = mode == "switch_root";
        using var vm = new VmBoot($"{nameof(DebianBootTests)}-{mode}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = sidecar ? _images.InitramfsWith("debian-sidecar", File.ReadAllText(RepoPaths.DefaultConfig) + "\n" + GuestConfig.DhcpAndSidecar(key + ".pub")) : _images.Initramfs,
            Disks = [Image(mode)],
            Append = $"console=ttyS0 panic=-1 quiet root=LABEL={Label} initos.mode={mode}",
            MemoryMiB = 1024,
            Network = sidecar,
            HostForwards = sidecar ? [(port, 22)] : [],
        });
        var up = vm.Expect($@"{DebianRootfs.Marker} uptime=[\d.]+ pid1=systemd virt=(?<virt>\S+) target=multi-user rootfs=(?<fs>\S+)", TimeSpan.FromSeconds(300));
        Assert.Matches($"^{virt}$", up.Groups["virt"].Value);
        Assert.Equal(rootfs, up.Groups["fs"].Value);
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
        if (sidecar)
        {
            RebootOverSshIsSystemdsOwnReboot(vm, key, keys.File("known_hosts"), port);
        }
    }

    /// <summary>
    /// `admin reboot` sends systemd SIGRTMIN+5 (busybox's SIGTERM would make it re-execute) and says 0
    /// only once systemd is on its way down; the machine then really reboots.
    /// </summary>
    private static void RebootOverSshIsSystemdsOwnReboot(VmBoot vm, string key, string knownHosts, int port)
    {
        var client = new AdminClient(key, new KnownHosts(knownHosts), TimeSpan.FromSeconds(90));
        var reboot = AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", port), "reboot");
        Assert.True(reboot.Succeeded, $"{reboot.ExitCode}: {reboot.Output} {reboot.Error}");
        Assert.Contains("asked systemd (PID 1) to reboot (SIGRTMIN+5)", reboot.Output, StringComparison.Ordinal);
        Assert.Contains("systemd is going down to reboot", reboot.Output, StringComparison.Ordinal);
        vm.Expect("reboot: Restarting system", TimeSpan.FromSeconds(180));
        vm.ExpectExit();
        Assert.DoesNotContain("Reexecuting", vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>One debootstrap per machine (cached in .cache, keyed by the marker unit and the packages), a copy per boot.</summary>
    private string Image(string mode) => Copy(_images, $"debian-{mode}.img");

    /// <summary>A copy of the Debian root image (built once and cached under .cache/), in this run's scratch directory.</summary>
    internal static string Copy(BootImages images, string name)
    {
        var cached = DebianImage.Cached();
        var copy = images.Scratch(name);
        Tool.Run("cp", "--sparse=always", cached, copy);
        return copy;
    }
}

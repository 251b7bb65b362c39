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
        // switch_root: the sidecar is systemd's unit (start = "after-init"), and reboots systemd the way systemd wants.
        using var keys = new TempDirectory("initos-debian-keys-");
        var key = keys.File("admin");
        SidecarSshBootTests.NewKey(key);
        int port = SidecarSshBootTests.FreePort();
        bool sidecar = mode == "switch_root";
        var config = File.ReadAllText(RepoPaths.DefaultConfig) + "\n" + GuestConfig.DhcpAndSidecar(key + ".pub") + "start = \"after-init\"\n";
        using var vm = new VmBoot($"{nameof(DebianBootTests)}-{mode}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = sidecar ? _images.InitramfsWith("debian-sidecar-after-init", config) : _images.Initramfs,
            Disks = [Image(mode)],
            Append = $"console=ttyS0 panic=-1 quiet root=LABEL={Label} initos.mode={mode}" + (sidecar ? " initos.test_reexec systemd.show_status=1 systemd.journald.forward_to_console=1" : ""),
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
            var client = new AdminClient(key, new KnownHosts(keys.File("known_hosts")), TimeSpan.FromSeconds(90));
            TheSidecarIsSystemdsUnitAndOutlivesADaemonReexec(vm, client, port);
            RebootOverSshIsSystemdsOwnReboot(vm, client, port);
        }
    }

    /// <summary>
    /// start = "after-init": PID 1 left a runtime unit in /run/systemd/system; systemd started the
    /// door from /run/initramfs in that unit's cgroup, and `systemctl daemon-reexec` keeps the
    /// same process running (the image's test unit prints the main pid before and after).
    /// </summary>
    private static void TheSidecarIsSystemdsUnitAndOutlivesADaemonReexec(VmBoot vm, AdminClient client, int port)
    {
        vm.Expect(@"sidecar: systemd \(/sbin/init\) starts it once it is up: /run/systemd/system/initos-sidecar\.service, wanted by basic\.target");
        var reexec = vm.Expect($@"{DebianImage.ReexecMarker} before=(?<before>\d+) (?<was>\S+) after=(?<after>\d+) (?<is>\S+)", TimeSpan.FromSeconds(120));
        Assert.Equal(("active", "active"), (reexec.Groups["was"].Value, reexec.Groups["is"].Value));
        Assert.NotEqual("0", reexec.Groups["before"].Value);
        Assert.Equal(reexec.Groups["before"].Value, reexec.Groups["after"].Value);
        var status = AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", port), "status");
        Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Output} {status.Error}");
        Assert.Contains("cgroup /system.slice/initos-sidecar.service", status.Output, StringComparison.Ordinal);
        Assert.Contains("oom_score_adj -900", status.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// `admin reboot` sends systemd SIGRTMIN+5 (busybox's SIGTERM would make it re-execute) and says 0
    /// only once systemd is on its way down; systemd stops the door after the OS's services, and
    /// the machine then really reboots.
    /// </summary>
    private static void RebootOverSshIsSystemdsOwnReboot(VmBoot vm, AdminClient client, int port)
    {
        var reboot = AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", port), "reboot");
        Assert.True(reboot.Succeeded, $"{reboot.ExitCode}: {reboot.Output} {reboot.Error}");
        Assert.Contains("asked systemd (PID 1) to reboot (SIGRTMIN+5)", reboot.Output, StringComparison.Ordinal);
        Assert.Contains("systemd is going down to reboot", reboot.Output, StringComparison.Ordinal);
        vm.Expect(@"Stopped .*serial-getty@ttyS0\.service[\s\S]*Stopped .*initos-sidecar\.service", TimeSpan.FromSeconds(180));
        vm.Expect("reboot: Restarting system", TimeSpan.FromSeconds(180));
        vm.ExpectExit();
        var afterTheTestsReexec = vm.Session.Log[vm.Session.Log.IndexOf(DebianImage.ReexecMarker, StringComparison.Ordinal)..];
        Assert.DoesNotContain("Reexecuting", afterTheTestsReexec, StringComparison.Ordinal);
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

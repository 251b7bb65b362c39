using System.Text.Json;
using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The sidecar after switch_root into Debian (systemd), both ways it can start, and its verdict.
/// Release 1.0 (systemd-boot, a UKI, OVMF with Secure Boot) has [sidecar] start = "after-init":
/// systemd starts the door as its own unit, keeps it through `systemctl daemon-reexec`, and
/// when 2.0 is applied over ssh with --reboot, answers with systemd's own reboot and stops the
/// door after the OS's services. Release 2.0 starts the door from the initramfs (the default);
/// that sidecar (outside the OS it judges) blesses 2.0 once systemd has been PID 1 for
/// settle_seconds and the probe (the sidecar's own door, at the machine's address) answers.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class DebianUpgradeBootTests
{
    private static readonly TimeSpan DebianTimeout = TimeSpan.FromSeconds(300);

    private readonly BootImages _images;
    private readonly UpgradeImages _upgrade;

    public DebianUpgradeBootTests(BootImages images)
    {
        _images = images;
        _upgrade = new UpgradeImages(images);
    }

    private string Uki(string version, bool afterInit)
    {
        var toml = File.ReadAllText(RepoPaths.DefaultConfig).Replace("LABEL=initos-root", $"LABEL={DebianBootTests.Label}", StringComparison.Ordinal) + "\n"
            + GuestConfig.DhcpAndSidecar(_upgrade.SshKey("admin") + ".pub") + (afterInit ? "start = \"after-init\"\n" : "") + "\n"
            + _upgrade.UpgradeTable(version, settleSeconds: 5, deadlineSeconds: 400) + "\n[[upgrade.probe]]\ntcp = \"10.0.2.15:22\"\n";
        // initos.test_reexec wakes the image's test unit; show_status puts systemd's stops on the console.
        var commandLine = "console=ttyS0 panic=-1 quiet" + (afterInit ? " initos.test_reexec systemd.show_status=1" : "");
        return _upgrade.SignedUki(_images.Scratch($"debian-upgrade-{version}.efi"), version, toml, commandLine);
    }

    [Fact]
    public void After_switch_root_into_Debian_systemd_owns_the_door_or_inherits_it_and_the_sidecar_blesses_the_new_version()
    {
        var disk = _upgrade.Disk("debian-upgrade-disk.img", Uki("1.0", afterInit: true), DebianBootTests.Copy(_images, "debian-upgrade-root.img"));
        var v2 = _upgrade.Bundle("2.0", Uki("2.0", afterInit: false));
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        int port = SidecarSshBootTests.FreePort();
        using var vm = UpgradeImages.Boot(nameof(DebianUpgradeBootTests), disk, vars.Path, port, noReboot: false);
        var target = new AdminTarget("127.0.0.1", port);

        vm.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        vm.Expect($@"{DebianRootfs.Marker} uptime=[\d.]+ pid1=systemd", DebianTimeout);
        TheDoorIsSystemdsUnitAndOutlivesADaemonReexec(vm, _upgrade.Client(), target);
        var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(_upgrade.Client(), target, "upgrade apply --reboot", v2));
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries)", applied.Output, StringComparison.Ordinal);
        // systemd's own reboot, answered (the door lets the session finish), the door stopped after the gettys.
        Assert.Contains("asked systemd (PID 1) to reboot (SIGRTMIN+5)", applied.Output, StringComparison.Ordinal);
        Assert.Contains("systemd is going down to reboot", applied.Output, StringComparison.Ordinal);
        // (systemd's status lines shorten unit names; the descriptions are whole.)
        vm.Expect(@"Stopped .*Serial Getty on ttyS0[\s\S]*Stopped .*sidecar: the admin door \(ssh\)", UpgradeImages.FirmwareTimeout);

        vm.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, 1 more try after this one\)", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"sidecar: started from /run/initramfs as pid \d+; it outlives the hand-off", DebianTimeout);
        vm.Expect($@"upgrade: trial boot of 2\.0[\s\S]*{DebianRootfs.Marker} uptime=[\d.]+ pid1=systemd", DebianTimeout);
        var client = _upgrade.Client();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        List<(string Entry, string State, bool Running)> slots = [];
        while (DateTime.UtcNow < deadline)
        {
            var status = AdminSessions.RunWhenUp(client, target, "upgrade status --json");
            Assert.True(status.Succeeded, status.ToString());
            slots = UpgradeBootTests.Slots(status.Output);
            if (slots.Contains(("initos-2.0.efi", "good", true)))
            {
                break;
            }
            Thread.Sleep(2000);
        }
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false)], slots);
        using var json = JsonDocument.Parse(AdminSessions.RunWhenUp(client, target, "upgrade status --json").Output);
        Assert.Equal("2.0", json.RootElement.GetProperty("running").GetString());
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// start = "after-init": PID 1 left a runtime unit in /run/systemd/system; systemd started the
    /// door in that unit's cgroup, and `systemctl daemon-reexec` keeps the same process running
    /// (the image's test unit prints the main pid and state before and after).
    /// </summary>
    private static void TheDoorIsSystemdsUnitAndOutlivesADaemonReexec(VmBoot vm, AdminClient client, AdminTarget target)
    {
        Assert.Matches(@"sidecar: systemd \(/sbin/init\) starts it once it is up: /run/systemd/system/initos-sidecar\.service, wanted by basic\.target", vm.Session.Log);
        var reexec = vm.Expect($@"{DebianImage.ReexecMarker} before=(?<before>\d+) (?<was>\S+) after=(?<after>\d+) (?<is>\S+)", DebianTimeout);
        Assert.Equal(("active", "active"), (reexec.Groups["was"].Value, reexec.Groups["is"].Value));
        Assert.NotEqual("0", reexec.Groups["before"].Value);
        Assert.Equal(reexec.Groups["before"].Value, reexec.Groups["after"].Value);
        var status = AdminSessions.RunWhenUp(client, target, "status");
        Assert.True(status.Succeeded, status.ToString());
        Assert.Contains("cgroup /system.slice/initos-sidecar.service", status.Output, StringComparison.Ordinal);
        Assert.Contains("oom_score_adj -900", status.Output, StringComparison.Ordinal);
    }
}

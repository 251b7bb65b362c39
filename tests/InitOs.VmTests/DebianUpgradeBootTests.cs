using System.Text.Json;
using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The verdict after switch_root: a machine boots Debian (systemd) from its root partition
/// through systemd-boot and a UKI of release 1.0 under OVMF with Secure Boot; 2.0 is applied over
/// ssh and the machine reboots into its trial; InitOS hands the machine to systemd, and the
/// sidecar it leaves behind (outside the OS it judges) blesses 2.0 once systemd has been PID 1
/// for settle_seconds and the probe (the sidecar's own door, at the machine's address on QEMU's
/// user network) answers.
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

    private string Uki(string version)
    {
        var toml = File.ReadAllText(RepoPaths.DefaultConfig).Replace("LABEL=initos-root", $"LABEL={DebianBootTests.Label}", StringComparison.Ordinal) + "\n"
            + GuestConfig.DhcpAndSidecar(_upgrade.SshKey("admin") + ".pub") + "\n"
            + _upgrade.UpgradeTable(version, settleSeconds: 10, deadlineSeconds: 400) + "\n[[upgrade.probe]]\ntcp = \"10.0.2.15:22\"\n";
        return _upgrade.SignedUki(_images.Scratch($"debian-upgrade-{version}.efi"), version, toml, "console=ttyS0 panic=-1 quiet");
    }

    [Fact]
    public void After_switch_root_into_Debian_the_sidecar_judges_systemd_and_blesses_the_new_version()
    {
        var disk = _upgrade.Disk("debian-upgrade-disk.img", Uki("1.0"), DebianBootTests.Copy(_images, "debian-upgrade-root.img"));
        var v2 = _upgrade.Bundle("2.0", Uki("2.0"));
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        int port = SidecarSshBootTests.FreePort();
        using var vm = UpgradeImages.Boot(nameof(DebianUpgradeBootTests), disk, vars.Path, port, noReboot: false);
        var target = new AdminTarget("127.0.0.1", port);

        vm.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        vm.Expect($@"{DebianRootfs.Marker} uptime=[\d.]+ pid1=systemd", DebianTimeout);
        var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(_upgrade.Client(), target, "upgrade apply --reboot", v2));
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries)", applied.Output, StringComparison.Ordinal);

        vm.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, 1 more try after this one\)", UpgradeImages.FirmwareTimeout);
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
}

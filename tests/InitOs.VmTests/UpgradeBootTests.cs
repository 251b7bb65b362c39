using System.Diagnostics;
using System.Text.Json;
using InitOs.Admin;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Disk;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// Upgrades end to end under OVMF with Secure Boot and Debian's signed systemd-boot: version 1.0
/// boots from its entry; 2.0 is applied over ssh from a signed bundle, tried (systemd-boot counts
/// the boot), judged by the sidecar and blessed; 3.0, whose probe never passes, is tried, judged
/// bad and marked so, and the machine is back on 2.0 by itself; 4.0, whose judge would rule only
/// after an hour, is reset by the hardware watchdog in each try, and the machine is back on 2.0. One
/// QEMU, rebooting as a machine does.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class UpgradeBootTests
{
    private const string MachineClass = "qemu-test";
    private static readonly TimeSpan FirmwareTimeout = TimeSpan.FromSeconds(180);

    private readonly BootImages _images;

    public UpgradeBootTests(BootImages images) => _images = images;

    private string SshKey(string name)
    {
        var path = _images.Scratch(name);
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    /// <summary>A signed UKI of release <paramref name="version"/>: mode initramfs, DHCP, the admin door, upgrades on.</summary>
    private string Uki(string version, string upgradeExtra)
    {
        var upgrade = $"[upgrade]\nkeys = [\"{File.ReadAllText(SshKey("release") + ".pub").Trim()}\"]\ncompatible = \"{MachineClass}\"\n" +
            $"min_version = \"1.0\"\nversion = \"{version}\"\nsettle_seconds = 3\ntries = 2\n{upgradeExtra}";
        var toml = GuestConfig.Pid1(GuestConfig.DhcpAndSidecar(SshKey("admin") + ".pub") + "\n" + upgrade,
            modules: "load = []\ninclude = [\"virtio_pci\", \"virtio_net\", \"virtio_blk\"]\ncoldplug = true");
        var initramfs = _images.InitramfsWith($"upgrade-{version}", toml);
        var uki = _images.Scratch($"upgrade-{version}.efi");
        UkiBuilder.Build(new UkiSpec
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Cmdline = "console=ttyS0 panic=-1",
            OsRelease = InitOs.Init.BuildVersion.OsReleaseFor(version),
        }, uki, Snakeoil);
        return uki;
    }

    private KeySet Snakeoil => KeySet.Snakeoil(_images.Scratch("keys-snakeoil"));

    private string Bundle(string version, string uki)
    {
        var output = _images.Scratch($"bundle-{version}.tar");
        BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", uki, [], SshKey("release")), output);
        return output;
    }

    [Fact]
    public void A_version_applied_over_ssh_is_tried_and_blessed_and_a_broken_one_rolls_back_by_itself()
    {
        var v1 = Uki("1.0", "");
        var v2 = Bundle("2.0", Uki("2.0", ""));
        // 3.0's probe asks for a port nothing listens on: its verdict is bad at the deadline.
        var v3 = Bundle("3.0", Uki("3.0", "deadline_seconds = 25\n\n[[upgrade.probe]]\ntcp = \"127.0.0.1:9\"\n"));
        var v4 = Bundle("4.0", Uki("4.0", "deadline_seconds = 3600\nwatchdog_seconds = 20\n\n[[upgrade.probe]]\ntcp = \"127.0.0.1:9\"\n"));
        var disk = _images.Scratch("upgrade-disk.img");
        BootDisk.Write(new BootDisk.Layout(v1, null, null, SystemdBoot: true, Snakeoil, null, 96L << 20), disk);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot(nameof(UpgradeBootTests), new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars.Path, SecureBoot: true),
            Disks = [disk],
            Network = true,
            HostForwards = [(port, 22)],
            NoReboot = false,
            ExtraArguments = ["-device", "i6300esb"],
        });
        var target = new AdminTarget("127.0.0.1", port);
        // No data volume: each boot makes a new host key, so each boot is pinned afresh.
        AdminClient Client(int boot) => new(SshKey("admin"), new KnownHosts(_images.Scratch($"upgrade-known-hosts-{boot}")), TimeSpan.FromSeconds(120));

        vm.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", FirmwareTimeout);
        var first = Client(1);
        var status = AdminSessions.RunWhenUp(first, target, "upgrade status");
        Assert.True(status.Succeeded, status.ToString());
        Assert.Contains("running 1.0 (good)", status.Output, StringComparison.Ordinal);

        // Refused over ssh, nothing kept: a version that is not newer.
        var same = Apply(first, target, "upgrade apply", Bundle("1.0", v1));
        Assert.True(same.ExitCode == 1, same.ToString());
        Assert.Contains("refused: the bundle's version 1.0 is not newer than the running 1.0", same.Error, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        var applied = Apply(first, target, "upgrade apply --reboot", v2);
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("signature: good", applied.Output, StringComparison.Ordinal);
        Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries)", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, 1 more try after this one\)", FirmwareTimeout);
        vm.Expect(@"upgrade: watchdog armed: the machine resets in 180 s unless the judge rules good first");
        vm.Expect(@"upgrade: verdict on 2\.0: good at [\d.]+ s after the boot; blessed \(initos-2\.0\.efi\)", FirmwareTimeout);
        var blessedAfter = clock.Elapsed;
        vm.Expect("upgrade: watchdog stopped");

        var second = Client(2);
        var slots = AdminSessions.RunWhenUp(second, target, "upgrade status --json");
        Assert.True(slots.Succeeded, slots.ToString());
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false)], Slots(slots.Output));

        clock.Restart();
        var broken = Apply(second, target, "upgrade apply --reboot", v3);
        Assert.True(broken.Succeeded, broken.ToString());
        vm.Expect(@"upgrade: trial boot of 3\.0", FirmwareTimeout);
        var badAt = clock.Elapsed;
        vm.Expect(@"upgrade: verdict on 3\.0: bad: not healthy 25 s after the boot: probe tcp 127\.0\.0\.1:9: .*; marked initos-3\.0\+0-1\.efi", FirmwareTimeout);
        vm.Expect(@"upgrade: running 2\.0, a good version \(initos-2\.0\.efi\)", FirmwareTimeout);
        var backAfter = clock.Elapsed - badAt;

        var third = Client(3);
        var after = AdminSessions.RunWhenUp(third, target, "upgrade status --json");
        Assert.True(after.Succeeded, after.ToString());
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false), ("initos-3.0+0-1.efi", "bad", false)], Slots(after.Output));

        // 4.0 hangs as far as the judge can tell (it would rule only after an hour): the watchdog
        // resets the machine in each of its two tries (the staging machine's [upgrade] tries), and
        // systemd-boot is back on 2.0.
        var hung = Apply(third, target, "upgrade apply --reboot", v4);
        Assert.True(hung.Succeeded, hung.ToString());
        vm.Expect(@"upgrade: trial boot of 4\.0 \(initos-4\.0\+1-1\.efi, 1 more try after this one\)", FirmwareTimeout);
        vm.Expect(@"upgrade: watchdog armed: the machine resets in 20 s");
        vm.Expect(@"upgrade: trial boot of 4\.0 \(initos-4\.0\+0-2\.efi, 0 more tries after this one\)", FirmwareTimeout);
        vm.Expect(@"trial boot of 4\.0 \(initos-4\.0\+0-2[\s\S]*upgrade: running 2\.0, a good version", FirmwareTimeout);
        var fourth = Client(4);
        var last = AdminSessions.RunWhenUp(fourth, target, "upgrade status --json");
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false), ("initos-4.0+0-2.efi", "bad", false), ("initos-3.0+0-1.efi", "bad", false)], Slots(last.Output));
        Console.WriteLine($"upgrade: apply to blessed {blessedAfter.TotalSeconds:F0} s; bad version's boot to the previous one up {backAfter.TotalSeconds:F0} s (TCG, Secure Boot)");
    }

    private static AdminResult Apply(AdminClient client, AdminTarget target, string command, string bundle)
    {
        using var input = File.OpenRead(bundle);
        return client.Run(target, command, input);
    }

    private static List<(string Entry, string State, bool Running)> Slots(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("slots").EnumerateArray()
            .Select(s => (s.GetProperty("entry").GetString()!, s.GetProperty("state").GetString()!, s.GetProperty("running").GetBoolean()))
            .ToList();
    }
}

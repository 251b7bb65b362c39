using System.Text.Json;
using InitOs.Admin;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A bundle carrying a UKI and the jailed OS's image together (mode privileged, under OVMF with
/// Secure Boot and systemd-boot, the OS on the data volume): 2.0 is applied over ssh, the image
/// staged and bound to the UKI before the UKI becomes an entry; the trial boot of UKI 2.0 runs
/// os@2.0, and one verdict blesses both. 3.0's OS runs no web server: the trial boot of UKI 3.0
/// runs os@3.0, the command probe fails, the verdict marks the entry bad and drops the image,
/// and the machine is back on UKI 2.0 with os@2.0 by itself.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class PairUpgradeBootTests
{
    private readonly BootImages _images;
    private readonly UpgradeImages _upgrade;

    public PairUpgradeBootTests(BootImages images)
    {
        _images = images;
        _upgrade = new UpgradeImages(images);
    }

    [Fact]
    public void A_uki_and_its_os_image_are_judged_as_one_blessed_together_and_rolled_back_together()
    {
        using var baseTree = new TempDirectory("initos-pair-os-base-");
        JailedUpgradeBootTests.Tree(baseTree.Path, "1.0", serves: true);
        var data = _images.Scratch("pair-upgrade-data.img");
        var report = DataVolume.Create(new DataVolume.Spec { SizeMiB = 256, Images = new Dictionary<string, string> { ["os"] = baseTree.Path } }, data);
        var digest = report.ImageDigests["os"];
        var disk = _upgrade.Disk("pair-upgrade-disk.img", Uki("1.0", digest));
        var v2 = Bundle("2.0", digest, serves: true);
        var v3 = Bundle("3.0", digest, serves: false);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        int port = SidecarSshBootTests.FreePort();
        var vm = Boot(nameof(PairUpgradeBootTests), disk, data, vars.Path, port);
        try
        {
            BlessedTogetherThenRolledBackTogether(vm, port, v2, v3);
        }
        catch
        {
            vm.Dispose();
            throw;
        }
        // The cut ends this machine; what comes up after it is another boot of its disks.
        using var after = APowerCutBeforeTheUkiBecomesAnEntryLeavesAnImageThePreviousUkiDrops(vm, port, disk, data, vars.Path, Bundle("4.0", digest, serves: true));
    }

    private void BlessedTogetherThenRolledBackTogether(VmBoot vm, int port, string v2, string v3)
    {
        var target = new AdminTarget("127.0.0.1", port);
        var client = _upgrade.Client();
        vm.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        vm.Expect("OS-VERSION=1.0 start=1");

        var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(client, target, "upgrade apply --reboot", v2));
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("upgrade: 2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries) with the OS image os@2.0 (one verdict for both)", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"os: the trial os@2\.0 \(1 more starts after this one\); the sidecar judges it", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, with the OS image os@2\.0\)");
        vm.Expect("OS-VERSION=2.0 start=1");
        vm.Expect(@"upgrade: verdict on 2\.0: good at [\d.]+ s after the boot; blessed \(initos-2\.0\.efi and os@2\.0, image floor 1\.0\)", UpgradeImages.FirmwareTimeout);
        AssertRunning(client, target, "2.0");

        var bad = AdminSessions.WhenUp(() => UpgradeImages.Apply(client, target, "upgrade apply --reboot", v3));
        Assert.True(bad.Succeeded, bad.ToString());
        vm.Expect(@"upgrade: trial boot of 3\.0 \(initos-3\.0\+1-1\.efi, with the OS image os@3\.0\)", UpgradeImages.FirmwareTimeout);
        var badBoot = System.Diagnostics.Stopwatch.StartNew();
        vm.Expect("OS-VERSION=3.0 start=1");
        vm.Expect(@"upgrade: verdict on 3\.0: bad: not healthy 30 s after the boot: probe command 'pidof httpd': exited 1; marked initos-3\.0\+0-1\.efi, os@3\.0 removed, rebooting into the previous version", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"upgrade: running 2\.0, a good version \(initos-2\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        vm.Expect("OS-VERSION=2.0 start=1");
        Console.WriteLine($"upgrade: a bad version's trial boot to the previous one's OS up {badBoot.Elapsed.TotalSeconds:F0} s (a 30 s deadline; TCG, Secure Boot)");
        AssertRunning(client, target, "2.0");
    }

    /// <summary>
    /// The power cut where a pair differs from a UKI alone: after the image, its proof and the
    /// pointer bound to UKI 4.0 are durable, before the UKI is renamed into an entry. The
    /// machine comes up on UKI 2.0, whose PID 1 passes the trial over and whose judge drops it.
    /// </summary>
    private VmBoot APowerCutBeforeTheUkiBecomesAnEntryLeavesAnImageThePreviousUkiDrops(VmBoot vm, int oldPort, string disk, string data, string vars, string v4)
    {
        var client = _upgrade.Client();
        var target = new AdminTarget("127.0.0.1", oldPort);
        // The steps before the entry: the UKI held (create, a write per MiB, fsync), the image
        // (create, writes, fsync, rename and its fsync, directory), its proof and the pointer
        // (five each); the entry's rename comes next.
        long MiB(string file) => (new FileInfo(file).Length + (1 << 20) - 1) >> 20;
        int k = (int)(2 + MiB(_images.Scratch("pair-upgrade-4.0.efi")) + 5 + MiB(_images.Scratch("pair-upgrade-4.0.squashfs")) + 5 + 5 + 1);
        using (vm)
        {
            _ = Task.Run(() => UpgradeImages.Apply(client, target, $"upgrade apply --hold-at {k}", v4));
            vm.Expect($@"upgrade: step {k}: rename /run/initos/esp/EFI/Linux/\.initos-4\.0\.efi\.partial → ", TimeSpan.FromSeconds(120));
            vm.Expect($@"upgrade: holding before step {k} ");
        }

        int port = SidecarSshBootTests.FreePort();
        var after = Boot(nameof(PairUpgradeBootTests) + "-after-cut", disk, data, vars, port);
        try
        {
            after.Expect(@"os: the trial os@4\.0 came with UKI 4\.0 and this boot is 2\.0: os@2\.0 runs", UpgradeImages.FirmwareTimeout);
            after.Expect(@"upgrade: the OS image os@4\.0 came with UKI 4\.0, which cannot boot \(never staged, or marked bad\); removed");
            AssertRunning(_upgrade.Client(), new AdminTarget("127.0.0.1", port), "2.0");
            return after;
        }
        catch
        {
            after.Dispose();
            throw;
        }
    }

    private static VmBoot Boot(string name, string disk, string data, string vars, int port) =>
        new(name, new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars, SecureBoot: true),
            Disks = [disk, data],
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
            NoReboot = false,
            ExtraArguments = ["-device", "i6300esb"],
        });

    /// <summary>`upgrade status --json`: UKI <paramref name="version"/> running and good, the jail on os@VERSION, the only staged image, nothing on trial.</summary>
    private static void AssertRunning(AdminClient client, AdminTarget target, string version)
    {
        var status = AdminSessions.RunWhenUp(client, target, "upgrade status --json");
        Assert.True(status.Succeeded, status.ToString());
        using var json = JsonDocument.Parse(status.Output);
        Assert.Equal(version, json.RootElement.GetProperty("running").GetString());
        var running = json.RootElement.GetProperty("slots").EnumerateArray().Single(s => s.GetProperty("running").GetBoolean());
        Assert.Equal("good", running.GetProperty("state").GetString());
        var images = json.RootElement.GetProperty("os_images");
        Assert.Equal($"os@{version}", images.GetProperty("running").GetString());
        Assert.Equal($"os@{version}", images.GetProperty("good").GetString());
        Assert.Equal(JsonValueKind.Null, images.GetProperty("trial").ValueKind);
        Assert.Equal([$"os@{version}"], images.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image").GetString() ?? "").ToArray());
    }

    /// <summary>UKI <paramref name="version"/>: mode privileged, the OS image "os" from the data volume, the command probe `pidof httpd`, a 30 s deadline (a good trial boot is judged at about 12 s under TCG).</summary>
    private string Uki(string version, string directoryDigest)
    {
        var toml = GuestConfig.Pid1($$"""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            image_digest = "{{directoryDigest}}"
            network = "host"

            {{_upgrade.UpgradeTable(version, settleSeconds: 3, deadlineSeconds: 30)}}
            [[upgrade.probe]]
            command = "pidof httpd"

            """ + GuestConfig.DhcpAndSidecar(_upgrade.SshKey("admin") + ".pub"),
            modules: "load = [\"btrfs\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"virtio_blk\", \"overlay\"]\ncoldplug = true",
            mode: "privileged");
        return _upgrade.SignedUki(_images.Scratch($"pair-upgrade-{version}.efi"), version, toml, "console=ttyS0 panic=-1");
    }

    /// <summary>A bundle of UKI <paramref name="version"/> and a squashfs OS image that says its version (and serves HTTP when <paramref name="serves"/>).</summary>
    private string Bundle(string version, string directoryDigest, bool serves)
    {
        var output = _images.Scratch($"pair-upgrade-{version}.bundle.tar");
        using var tree = new TempDirectory("initos-pair-os-");
        JailedUpgradeBootTests.Tree(tree.Path, version, serves);
        var image = _images.Scratch($"pair-upgrade-{version}.squashfs");
        OsImageFile.Squashfs(tree.Path, image);
        BundleWriter.Write(new BundleSpec(version, UpgradeImages.MachineClass, "1.0", Uki(version, directoryDigest), [new("os", image)], _upgrade.SshKey("release")), output);
        return output;
    }
}

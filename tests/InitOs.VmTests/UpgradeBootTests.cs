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
/// the boot), judged by the sidecar and blessed; 4.0, whose judge would rule only after an hour,
/// is reset by the hardware watchdog in each try, and the machine is back on 2.0. One QEMU,
/// rebooting as a machine does. (A version whose probe fails, judged bad and rolled back, is
/// PairUpgradeBootTests' 3.0: the same verdict, with an OS image beside the UKI.)
/// </summary>
[Collection(BootCollection.Name)]
public sealed class UpgradeBootTests
{
    private readonly UpgradeImages _upgrade;

    public UpgradeBootTests(BootImages images) => _upgrade = new UpgradeImages(images);

    [Fact]
    public void A_version_applied_over_ssh_is_tried_and_blessed_and_a_broken_one_rolls_back_by_itself()
    {
        var v1 = _upgrade.Uki("1.0");
        var v2 = _upgrade.Bundle("2.0", _upgrade.Uki("2.0"));
        var v4 = _upgrade.Bundle("4.0", _upgrade.Uki("4.0", "deadline_seconds = 3600\nwatchdog_seconds = 20\n\n[[upgrade.probe]]\ntcp = \"127.0.0.1:9\"\n"));
        var disk = _upgrade.Disk("upgrade-disk.img", v1);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        int port = SidecarSshBootTests.FreePort();
        using var vm = UpgradeImages.Boot(nameof(UpgradeBootTests), disk, vars.Path, port, noReboot: false);
        var target = new AdminTarget("127.0.0.1", port);
        // No data volume: each boot makes a new host key, so each boot is pinned afresh.

        vm.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        var first = _upgrade.Client();
        var status = AdminSessions.RunWhenUp(first, target, "upgrade status");
        Assert.True(status.Succeeded, status.ToString());
        Assert.Contains("running 1.0 (good)", status.Output, StringComparison.Ordinal);

        // Refused over ssh, nothing kept: a version that is not newer.
        var same = UpgradeImages.Apply(first, target, "upgrade apply", _upgrade.Bundle("1.0", v1));
        Assert.True(same.ExitCode == 1, same.ToString());
        Assert.Contains("refused: the bundle's version 1.0 is not newer than the running 1.0", same.Error, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        var applied = UpgradeImages.Apply(first, target, "upgrade apply --reboot", v2);
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("signature: good", applied.Output, StringComparison.Ordinal);
        Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries)", applied.Output, StringComparison.Ordinal);
        // What the upgrade wrote is the UKI and nothing else (beyond FAT's own bookkeeping).
        Assert.Contains($" {new FileInfo(_upgrade.Uki("2.0")).Length} bytes written", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, 1 more try after this one\)", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"upgrade: watchdog armed: the machine resets in 180 s unless the judge rules good first");
        vm.Expect(@"upgrade: verdict on 2\.0: good at [\d.]+ s after the boot; blessed \(initos-2\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        var blessedAfter = clock.Elapsed;
        vm.Expect("upgrade: watchdog stopped");

        var second = _upgrade.Client();
        var slots = AdminSessions.RunWhenUp(second, target, "upgrade status --json");
        Assert.True(slots.Succeeded, slots.ToString());
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false)], Slots(slots.Output));

        // 4.0 hangs as far as the judge can tell (it would rule only after an hour): the watchdog
        // resets the machine in each of its two tries (the staging machine's [upgrade] tries), and
        // systemd-boot is back on 2.0.
        var hung = UpgradeImages.Apply(second, target, "upgrade apply --reboot", v4);
        Assert.True(hung.Succeeded, hung.ToString());
        vm.Expect(@"upgrade: trial boot of 4\.0 \(initos-4\.0\+1-1\.efi, 1 more try after this one\)", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"upgrade: watchdog armed: the machine resets in 20 s");
        vm.Expect(@"upgrade: trial boot of 4\.0 \(initos-4\.0\+0-2\.efi, 0 more tries after this one\)", UpgradeImages.FirmwareTimeout);
        vm.Expect(@"trial boot of 4\.0 \(initos-4\.0\+0-2[\s\S]*upgrade: running 2\.0, a good version", UpgradeImages.FirmwareTimeout);
        var fourth = _upgrade.Client();
        var last = AdminSessions.RunWhenUp(fourth, target, "upgrade status --json");
        Assert.Equal([("initos-2.0.efi", "good", true), ("initos-1.0.efi", "good", false), ("initos-4.0+0-2.efi", "bad", false)], Slots(last.Output));
        Console.WriteLine($"upgrade: apply to blessed {blessedAfter.TotalSeconds:F0} s (TCG, Secure Boot)");
    }

    internal static List<(string Entry, string State, bool Running)> Slots(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("slots").EnumerateArray()
            .Select(s => (s.GetProperty("entry").GetString()!, s.GetProperty("state").GetString()!, s.GetProperty("running").GetBoolean()))
            .ToList();
    }
}

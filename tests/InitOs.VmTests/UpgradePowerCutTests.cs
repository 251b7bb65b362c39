using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The power cut at every durable step of `upgrade apply`: the machine (1.0) is told to hold
/// before step K (`--hold-at K`, or in the middle of a write with `--torn`), QEMU is killed
/// there, and the machine boots again from the same disk and variable store. It must come up
/// on a verified version, 1.0 or a trial of 2.0, never neither, and the next `upgrade apply`
/// must succeed. A cut during a trial boot spends that boot's try and no more. `make test` cuts at a fixed sample of the steps (the first, a torn write, the
/// rename, the fsync after it, the last); `make slow-test` at every step and in every write.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class UpgradePowerCutTests
{
    private readonly UpgradeImages _upgrade;

    public UpgradePowerCutTests(BootImages images) => _upgrade = new UpgradeImages(images);

    private string V1 => _upgrade.Uki("1.0");

    private string V2Uki => _upgrade.Uki("2.0");

    /// <summary>The steps `upgrade apply` of 2.0 takes on a clean ESP: create, one write per MiB, fsync, rename, fsync under the new name, fsync the directory.</summary>
    private int StepCount => 1 + (int)((new FileInfo(V2Uki).Length + (1 << 20) - 1) >> 20) + 4;

    /// <summary>The sample `make test` runs: a torn write, the moment before the rename, the one before the directory is synced; `make slow-test` cuts at every step.</summary>
    [Theory]
    [InlineData("write", true)]
    [InlineData("rename", false)]
    [InlineData("directory-fsync", false)]
    public void A_power_cut_at_a_step_of_an_upgrade_leaves_a_machine_that_boots_a_verified_version_and_upgrades_again(string step, bool torn)
    {
        int k = step switch
        {
            "create" => 1,
            "write" => 2,
            "rename" => StepCount - 2,
            "renamed-fsync" => StepCount - 1,
            _ => StepCount,
        };
        var outcome = CutAndBoot(k, torn);
        Console.WriteLine($"power cut {(torn ? "in" : "before")} step {k} of {StepCount} ({step}): came up on {outcome}, next upgrade applied");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_power_cut_at_every_step_and_in_every_write_of_an_upgrade_leaves_a_machine_that_boots_and_upgrades_again()
    {
        var points = Enumerable.Range(1, StepCount).Select(k => (k, false))
            .Concat(Enumerable.Range(2, StepCount - 5).Select(k => (k, true))).ToList();
        int survived = 0;
        foreach (var (k, torn) in points)
        {
            var outcome = CutAndBoot(k, torn);
            survived++;
            Console.WriteLine($"power cut {(torn ? "in" : "before")} step {k}: came up on {outcome}");
        }
        Console.WriteLine($"upgrade power cuts: {points.Count} cut points, {survived} survived");
        Assert.Equal(points.Count, survived);
    }

    [Fact]
    public void A_power_cut_during_a_trial_boot_spends_that_one_try_and_the_next_try_is_judged_and_blessed()
    {
        var disk = _upgrade.Disk("powercut-trial.img", V1);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        try
        {
            int port = SidecarSshBootTests.FreePort();
            using (var vm = UpgradeImages.Boot("powercut-trial", disk, vars.Path, port, noReboot: true))
            {
                vm.Expect(@"upgrade: running 1\.0, a good version", UpgradeImages.FirmwareTimeout);
                var staged = AdminSessions.WhenUp(() => UpgradeImages.Apply(_upgrade.Client(), new AdminTarget("127.0.0.1", port), "upgrade apply", _upgrade.Bundle("2.0", V2Uki)));
                Assert.True(staged.Succeeded, staged.ToString());
                Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi (2 tries)", staged.Output, StringComparison.Ordinal);
            }
            using (var trial = UpgradeImages.Boot("powercut-trial-1", disk, vars.Path, SidecarSshBootTests.FreePort(), noReboot: true))
            {
                trial.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi, 1 more try after this one\)", UpgradeImages.FirmwareTimeout);
                // The plug is pulled within the settle time, before any verdict.
                Assert.DoesNotContain("verdict on 2.0", trial.Session.Log, StringComparison.Ordinal);
            }
            using var again = UpgradeImages.Boot("powercut-trial-2", disk, vars.Path, SidecarSshBootTests.FreePort(), noReboot: true);
            again.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+0-2\.efi, 0 more tries after this one\)", UpgradeImages.FirmwareTimeout);
            again.Expect(@"upgrade: verdict on 2\.0: good at [\d.]+ s after the boot; blessed \(initos-2\.0\.efi\)", UpgradeImages.FirmwareTimeout);
        }
        finally
        {
            File.Delete(disk);
        }
    }

    /// <summary>Holds `upgrade apply` of 2.0 at step <paramref name="k"/>, kills QEMU there, boots again; returns what came up after the next apply succeeded.</summary>
    private string CutAndBoot(int k, bool torn)
    {
        var name = $"powercut-{k}{(torn ? "-torn" : "")}";
        var disk = _upgrade.Disk(name + ".img", V1);
        var v2 = _upgrade.Bundle("2.0", V2Uki);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        try
        {
            int port = SidecarSshBootTests.FreePort();
            var target = new AdminTarget("127.0.0.1", port);
            using (var vm = UpgradeImages.Boot(name, disk, vars.Path, port, noReboot: true))
            {
                vm.Expect(@"upgrade: running 1\.0, a good version", UpgradeImages.FirmwareTimeout);
                var client = _upgrade.Client();
                Assert.True(AdminSessions.RunWhenUp(client, target, "upgrade status").Succeeded);
                // The session holds for good; it ends with the machine.
                _ = Task.Run(() => UpgradeImages.Apply(client, target, $"upgrade apply --hold-at {k}{(torn ? " --torn" : "")}", v2));
                vm.Expect(torn ? $@"upgrade: holding in step {k}, half of its bytes written" : $@"upgrade: holding before step {k} ", TimeSpan.FromSeconds(120));
            }
            // The plug was pulled (QEMU killed): what the guest had not synced is gone.
            int again = SidecarSshBootTests.FreePort();
            var second = new AdminTarget("127.0.0.1", again);
            using var after = UpgradeImages.Boot(name + "-after", disk, vars.Path, again, noReboot: true);
            var came = after.Expect(@"upgrade: (running 1\.0, a good version|trial boot of 2\.0)", UpgradeImages.FirmwareTimeout).Groups[1].Value;
            var next = _upgrade.Client();
            if (came.StartsWith("running 1.0", StringComparison.Ordinal))
            {
                var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(next, second, "upgrade apply", v2));
                Assert.True(applied.Succeeded, $"after a cut at step {k}: {applied}");
                Assert.Contains("2.0 staged as EFI/Linux/initos-2.0+2.efi", applied.Output, StringComparison.Ordinal);
                return "1.0";
            }
            after.Expect(@"upgrade: verdict on 2\.0: good", UpgradeImages.FirmwareTimeout);
            var v3 = _upgrade.Bundle("3.0", _upgrade.Uki("3.0"));
            var staged = AdminSessions.WhenUp(() => UpgradeImages.Apply(next, second, "upgrade apply", v3));
            Assert.True(staged.Succeeded, $"after a cut at step {k}: {staged}");
            return "2.0 (trial, blessed)";
        }
        finally
        {
            File.Delete(disk);
        }
    }
}

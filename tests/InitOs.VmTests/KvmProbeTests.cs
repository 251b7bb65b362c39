using InitOs.Jails.Vm;
using InitOs.Jails.Vm.Kvm;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The probe behind every KVM-or-TCG choice, run for real in QEMU. Its three outcomes are made
/// real under TCG: the probe firmware reaches long mode and writes its marker (ran); a firmware
/// that halts at the reset vector never writes (hung, as a guest under broken nested KVM does);
/// a firmware QEMU refuses ends QEMU (died, as QEMU does when KVM cannot be set up).
/// </summary>
public sealed class KvmProbeTests : IDisposable
{
    private readonly TempDirectory _work = new("initos-kvm-probe-");

    [Fact]
    public void The_probe_firmware_runs_to_long_mode_and_writes_its_marker()
    {
        var result = KvmProbe.Run(QemuBinary.Installed(), "tcg", ProbeFirmware.Bytes, TimeSpan.FromSeconds(20), _work.Path);
        Assert.Equal(ProbeOutcome.Ran, result.Outcome);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_work.Path));
    }

    /// <summary>Halts at the reset vector for ever, as a guest does under nested KVM that cannot run it.</summary>
    private static byte[] Silent()
    {
        var silent = new byte[ProbeFirmware.Size];
        silent[0xFFF0] = 0xF4; // hlt
        silent[0xFFF1] = 0xEB; // jmp back to the hlt
        silent[0xFFF2] = 0xFD;
        return silent;
    }

    [Fact]
    public void A_guest_that_never_writes_is_a_hang_found_at_the_deadline_and_its_qemu_is_gone()
    {
        var result = KvmProbe.Run(QemuBinary.Installed(), "tcg", Silent(), KvmProbe.Deadline, _work.Path);
        Assert.Equal(ProbeOutcome.Hung, result.Outcome);
        Assert.InRange(result.Elapsed, KvmProbe.Deadline, KvmProbe.Deadline + TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc"), d => ProbeQemu(d, _work.Path));
    }

    [Fact]
    public void A_qemu_that_ends_before_the_guest_runs_is_a_death_with_what_qemu_said()
    {
        var result = KvmProbe.Run(QemuBinary.Installed(), "tcg", new byte[1000], TimeSpan.FromSeconds(20), _work.Path);
        Assert.Equal(ProbeOutcome.Died, result.Outcome);
        Assert.Contains("BIOS", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_outcome_becomes_a_verdict_that_says_why()
    {
        var ran = Accelerator.Verdict(new ProbeResult(ProbeOutcome.Ran, TimeSpan.FromMilliseconds(180), ""));
        var hung = Accelerator.Verdict(new ProbeResult(ProbeOutcome.Hung, TimeSpan.FromSeconds(2), ""));
        var died = Accelerator.Verdict(new ProbeResult(ProbeOutcome.Died, TimeSpan.FromMilliseconds(40), "failed to set MSR"));
        Assert.Equal((true, "KVM: a probe guest reached long mode in 180 ms; using KVM"), (ran.Kvm, ran.Reason));
        Assert.Equal((false, "KVM: /dev/kvm opens but a probe guest did not run in 2 s; using TCG"), (hung.Kvm, hung.Reason));
        Assert.Equal((false, "KVM: /dev/kvm opens but QEMU could not run a probe guest with it (failed to set MSR); using TCG"), (died.Kvm, died.Reason));
    }

    /// <summary>
    /// The whole decision on a machine like the one where the suite once hung: the device opens
    /// (here /dev/null stands in for /dev/kvm) and the guest never runs (TCG with the silent
    /// firmware stands in for a KVM that cannot run it): TCG, with the reason.
    /// </summary>
    [Fact]
    public void A_device_that_opens_with_a_guest_that_never_runs_means_tcg_and_says_why()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var hung = Accelerator.Judge(QemuBinary.Installed(), _work.Path, "/dev/null", "tcg", Silent());
        Assert.Equal((false, "KVM: /dev/kvm opens but a probe guest did not run in 2 s; using TCG"), (hung.Kvm, hung.Reason));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the decision took {clock.Elapsed.TotalSeconds:F1} s");

        var ran = Accelerator.Judge(QemuBinary.Installed(), _work.Path, "/dev/null", "tcg", ProbeFirmware.Bytes);
        Assert.True(ran.Kvm, ran.Reason);
        var missing = Accelerator.Judge(QemuBinary.Installed(), _work.Path, "/dev/no-such-kvm", "kvm", ProbeFirmware.Bytes);
        Assert.Equal((false, "KVM: there is no /dev/no-such-kvm; using TCG"), (missing.Kvm, missing.Reason));
    }

    [Fact]
    public void The_verdict_is_kept_for_this_boot_only_and_a_named_accelerator_needs_no_probe()
    {
        var cache = Path.Combine(_work.Path, "accel");
        var first = Accelerator.Choose(AccelRequest.Auto, QemuBinary.Installed(), cache);
        var second = Accelerator.Choose(AccelRequest.Auto, QemuBinary.Installed(), cache);
        Assert.Equal(first.Kvm, second.Kvm);
        Assert.EndsWith($"(the verdict of this boot, kept in {cache})", second.Reason, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), File.ReadAllLines(cache)[0]);

        // A verdict from another boot is not trusted: the probe runs again.
        File.WriteAllText(cache, $"00000000-0000-0000-0000-000000000000\nkvm\nan old verdict\n");
        var again = Accelerator.Choose(AccelRequest.Auto, QemuBinary.Installed(), cache);
        Assert.DoesNotContain("an old verdict", again.Reason, StringComparison.Ordinal);

        Assert.True(Accelerator.Choose(AccelRequest.Kvm, QemuBinary.Installed(), cache).Kvm);
        Assert.False(Accelerator.Choose(AccelRequest.Tcg, QemuBinary.Installed(), cache).Kvm);
    }

    private static bool ProbeQemu(string procDirectory, string work)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDirectory, "cmdline")).Contains(work, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose() => _work.Dispose();
}

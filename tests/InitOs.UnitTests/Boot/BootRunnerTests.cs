using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Recovery;

namespace InitOs.UnitTests.Boot;

public sealed class BootRunnerTests
{
    private sealed class RecordingRecovery : IRecovery
    {
        public List<string> Events { get; } = [];
        public void Fail(FailurePolicy policy, string reason) => Events.Add($"fail {policy}: {reason}");
        public void Break(string reason) => Events.Add($"break: {reason}");
    }

    private static BootContext Context() => new(BootLog.Instance, []);

    [Fact]
    public void The_switch_root_sequence_is_data_with_phases_in_order()
    {
        var phases = BootSequence.SwitchRoot(new RecordingSystem());
        Assert.Equal(["early-mounts", "settings", "modules", "network", "host", "raid", "crypt", "lvm", "data", "sidecar", "upgrade", "devices", "root", "switch-root", "os", "vm"], BootSequence.PhaseNames(phases));
        Assert.Equal(["stop-coldplug", "verify-new-root", "start-sidecar", "stop-hotplug", "detach-module-store", "move-api-mounts", "free-initramfs", "prepare-handoff"], phases.Single(p => p.Name == "switch-root").Tasks.Select(t => t.Name));
    }

    [Fact]
    public void Phases_run_in_order_and_are_timed()
    {
        var ran = new List<string>();
        var context = Context();
        new BootRunner(new RecordingRecovery()).Run(
        [
            new Phase("one", [new BootTask("a", _ => ran.Add("one.a")), new BootTask("b", _ => ran.Add("one.b"))]),
            new Phase("two", [new BootTask("c", _ => ran.Add("two.c"))]),
        ], context);
        Assert.Equal(["one.a", "one.b", "two.c"], ran);
        Assert.Equal(["one", "two"], context.Timings.Select(t => t.Name));
    }

    [Fact]
    public void A_failing_phase_goes_to_the_policy_with_the_task_named_and_is_retried()
    {
        var recovery = new RecordingRecovery();
        var context = Context();
        context.Policy = FailurePolicy.Shell;
        int attempts = 0;
        new BootRunner(recovery).Run(
        [
            new Phase("devices", [new BootTask("wait-for-root", _ =>
            {
                if (++attempts == 1)
                {
                    throw new BootException("root device LABEL=x not found");
                }
            })]),
        ], context);
        Assert.Equal(2, attempts);
        Assert.Equal(["fail Shell: phase devices, task wait-for-root failed: root device LABEL=x not found"], recovery.Events);
    }

    [Fact]
    public void Break_runs_the_shell_before_the_named_phase_only()
    {
        var recovery = new RecordingRecovery();
        var context = Context();
        var ran = new List<string>();
        new BootRunner(recovery).Run(
        [
            new Phase("settings", [new BootTask("read", c => c.Settings = new BootSettings { BreakBefore = "root" })]),
            new Phase("devices", [new BootTask("x", _ => ran.Add($"devices after {recovery.Events.Count} events"))]),
            new Phase("root", [new BootTask("y", _ => ran.Add($"root after {recovery.Events.Count} events"))]),
        ], context);
        Assert.Equal(["devices after 0 events", "root after 1 events"], ran);
        Assert.StartsWith("break: initos.break=root", recovery.Events.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_timing_table_has_a_row_per_phase_and_a_total()
    {
        var table = BootRunner.TimingTable(
        [
            new PhaseTiming("early-mounts", 1.5, TimeSpan.FromMilliseconds(2.26)),
            new PhaseTiming("devices", 1.6, TimeSpan.FromMilliseconds(100)),
        ]);
        var lines = table.Split('\n');
        Assert.Equal("boot timing:", lines[0]);
        Assert.Matches(@"^early-mounts\s+1\.500\s+2\.3$", lines[2]);
        Assert.Matches(@"^devices\s+1\.600\s+100\.0$", lines[3]);
        Assert.Matches(@"^total\s+102\.3$", lines[4]);
    }
}

using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The boot behind docs/pid1.md's one-reaper decision: a .NET PID 1 that uses
/// System.Diagnostics.Process and also reaps any child (as an init must) loses child
/// statuses, or has its runtime abort — which for PID 1 is a kernel panic.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class ReaperCollisionBootTests
{
    private readonly BootImages _images;

    public ReaperCollisionBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_dotnet_pid1_with_Process_and_a_second_reaper_loses_statuses_or_aborts()
    {
        RepoPaths.Require(RepoPaths.ReaperCollision, "make diag");
        var initramfs = _images.BuildInitramfs("collision-initramfs.img", configFile: null,
            extraExecutables: new Dictionary<string, string> { ["bin/reaper-collision"] = RepoPaths.ReaperCollision });
        using var vm = new VmBoot(nameof(A_dotnet_pid1_with_Process_and_a_second_reaper_loses_statuses_or_aborts), _images,
            "rdinit=/bin/reaper-collision", initramfs);

        vm.Expect("REAPER-COLLISION start pid=1");
        var outcome = vm.Expect(@"REAPER-COLLISION done ok=\d+ lost=(\d+)|Error while (reaping|checking for terminated) child.*|Kernel panic.*");

        // "done ... lost=0" would mean the runtime and the second reaper got along: the premise of
        // the decision would be wrong and this test says so.
        Assert.False(outcome.Groups[1].Success && outcome.Groups[1].Value == "0", $"no status was lost: {outcome.Value}");
        Assert.Matches("lost-status pid=\\d+|Error while|Kernel panic", vm.Session.Log);
    }
}

using System.Text.RegularExpressions;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// InitOS staying PID 1 (initramfs mode): services, reaping, and shutdown/reboot requests,
/// driven from a shell that PID 1 itself supervises on the serial console.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class Pid1BootTests
{
    private static readonly string Config = GuestConfig.Pid1("""
        [shutdown]
        grace_seconds = 3

        """ + GuestConfig.ConsoleShell + """

        [[service]]
        name = "stubborn"
        command = ["/bin/sh", "-c", "trap '' TERM; echo STUBBORN-UP; while :; do /bin/busybox sleep 1; done"]
        stop_grace_seconds = 1

        [[service]]
        name = "flaky"
        command = ["/bin/sh", "-c", "echo FLAKY-RUN; exit 3"]

        [[service]]
        name = "orphans"
        command = ["/bin/sh", "-c", "i=0; while [ $i -lt 1000 ]; do (/bin/busybox true &) ; i=$((i+1)); done; echo ORPHANS-DONE"]
        restart = "never"
        """);

    private readonly BootImages _images;

    public Pid1BootTests(BootImages images) => _images = images;

    private string Initramfs() => _images.InitramfsWith("pid1", Config);

    [Fact]
    public void Services_run_orphans_are_reaped_and_poweroff_stops_unmounts_syncs_and_ends_the_machine()
    {
        using var vm = new VmBoot(nameof(Services_run_orphans_are_reaped_and_poweroff_stops_unmounts_syncs_and_ends_the_machine), _images, "", Initramfs());
        vm.Expect("STUBBORN-UP");
        vm.Expect("ORPHANS-DONE");
        vm.Expect(@"service flaky: crash loop \(5 starts within 60 s");
        vm.Session.Send("\n");
        var zombies = "Z-COUNT";
        vm.Session.Send($"/bin/busybox sleep 2; echo {zombies}=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')\n");
        Assert.Equal("0", vm.Expect($@"{zombies}=(?<n>\d+)").Groups["n"].Value);
        // The supervisor publishes the count at most a tick (1 s) late: ask again until it has.
        long reaped = 0;
        for (int attempt = 1; attempt <= 5 && reaped < 1000; attempt++)
        {
            vm.Session.Send($"/bin/busybox sleep {(attempt == 1 ? 0 : 1)}; initos services; echo ORPHANS-{attempt}=$(initos services | grep -o 'PID 1: [0-9]*' | grep -o '[0-9]*$')\n");
            var orphans = vm.Expect($@"ORPHANS-{attempt}=(?<n>\d+)");
            reaped = long.Parse(orphans.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.True(reaped >= 1000, $"orphans reaped by PID 1: {reaped}");
        Assert.Matches(@"flaky\s+crashloop", vm.Session.Log);
        vm.Session.Send("initos poweroff\n");
        vm.Expect("SIGUSR2 received: poweroff requested");
        vm.Expect(@"service stubborn: still running 1 s after SIGTERM; killed");
        vm.Expect(@"shutdown: unmounted /dev/shm");
        vm.Expect("shutdown: sync done");
        vm.Expect("shutdown: powering off");
        vm.ExpectExit();
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reboot_request_boots_the_machine_a_second_time()
    {
        using var vm = new VmBoot(nameof(A_reboot_request_boots_the_machine_a_second_time), _images, "", Initramfs(), exitOnReboot: false);
        vm.Expect("STUBBORN-UP");
        vm.Session.Send("\ninitos reboot\n");
        vm.Expect("shutdown: rebooting");
        vm.Expect(@"(?s)starting as PID 1.*starting as PID 1");
        Assert.Equal(2, Regex.Count(vm.Session.Log, "InitOS [0-9.]+ starting as PID 1"));
    }
}

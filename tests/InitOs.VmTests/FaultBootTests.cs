using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// PID 1 against faults, under QEMU, with a privileged jailed OS writing to its console all the
/// while: /run filled, a service's console gone, a fork bomb in a service. Afterwards PID 1
/// still tells the truth about its services and still reboots; the kernel never panics.
/// (A QMP peer that sends garbage: QmpEventsTests, against the reader PID 1 runs.)
/// </summary>
[Collection(BootCollection.Name)]
public sealed class FaultBootTests
{
    /// <summary>The OS writes a 300-byte line a second to its console: a full /run is met within seconds by its log.</summary>
    private const string OsTicker = "::respawn:/bin/sh -c 'pad=$(head -c 300 /dev/zero | tr \"\\\\0\" x); n=0; while :; do n=$((n+1)); echo OS-TICK $n $pad; sleep 1; done'\n";

    private readonly BootImages _images;

    public FaultBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_full_run_a_vanished_console_and_a_fork_bomb_leave_pid1_truthful_and_able_to_reboot()
    {
        var rootfs = _images.Scratch("fault-rootfs.img");
        if (!File.Exists(rootfs))
        {
            DiskImages.DefaultRootfs(rootfs, extras: [new ImageBuild.Rootfs.DefaultRootfs.ExtraFile("etc/inittab", OsTicker, 0x1A4)]);
        }
        var initramfs = _images.InitramfsWith("faults", GuestConfig.Pid1("""
            [root]
            device = "LABEL=initos-root"

            [os]
            network = "none"

            [[service]]
            name = "console"
            command = ["/bin/sh"]
            console = true

            [[service]]
            name = "filler"
            restart = "never"
            command = ["/bin/sh", "-c", "until [ -e /run/initos/jails/os/state.json ]; do sleep 1; done; sleep 2; mount -o remount,size=24m /run && dd if=/dev/zero of=/run/fill bs=64k 2>/dev/null; echo RUN-FULL; exec /bin/busybox sleep 1000000"]

            [[service]]
            name = "ticker"
            command = ["/bin/busybox", "tail", "-f", "/dev/null"]
            """, "load = [\"virtio_pci\", \"virtio_blk\", \"ext4\", \"overlay\"]\ncoldplug = false", mode: "privileged"));
        using var vm = new VmBoot(nameof(FaultBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [rootfs],
            Append = "console=ttyS0 panic=-1 quiet",
            MemoryMiB = 768,
        });

        // /run full: the OS's console is still relayed (its log stops, said once), and the status stays true.
        vm.Expect("RUN-FULL");
        vm.Expect(@"RUN-FULL[\s\S]*os: console log /run/\S+: No space left on device.*; the console is still relayed, no longer logged[\s\S]*OS-TICK \d+ x{300}", TimeSpan.FromSeconds(60));
        Shell(vm, "kill -9 $(initos services | awk '/^ticker / { print $3 }'); sleep 3; initos services | grep ticker", @"ticker\s+running\s+\d+\s+2\s");

        // The console a service is started on vanishes: the start fails and is retried; nothing else happens.
        Shell(vm, "mv /dev/console /dev/console.gone; kill -9 $(initos services | awk '/^ticker / { print $3 }'); sleep 1; initos services | grep ticker; mv /dev/console.gone /dev/console", @"ticker\s+(waiting|crashloop)\s+0\s");
        vm.Expect(@"service ticker: open\(/dev/console\): .*No such file or directory");
        Shell(vm, "sleep 5; initos services | grep ticker", @"ticker\s+running\s+\d+\s+\d+\s");

        // A fork bomb in a service for 20 s. This console shell is kept out of the OOM killer's way,
        // the bomb's processes not: had they inherited the shell's -1000, nothing would be left to
        // kill once they filled memory, and the kernel panics ("System is deadlocked on memory"),
        // which CI saw on a slow run. The kernel's OOM reports stay off the serial console: under
        // TCG each one printed there stalls the machine for seconds, and the shell that ends the
        // bomb did not get to run within 4 minutes on a slow run.
        Shell(vm, "echo 1 > /proc/sys/kernel/printk; echo 0 > /proc/sys/vm/oom_dump_tasks; echo -1000 > /proc/self/oom_score_adj; bomb() { [ -e /run/stop ] && return; bomb | bomb & }; (echo 0 > /proc/self/oom_score_adj; bomb); read -t 20 line; : > /run/stop; echo BOMB-STOPPED", "BOMB-STOPPED", TimeSpan.FromSeconds(240));
        ShellUntilAnswered(vm, "sleep 5; initos services | grep -c running && echo SERVICES-ANSWERED", "SERVICES-ANSWERED", TimeSpan.FromSeconds(240));
        vm.Expect(@"OS-TICK \d+");

        vm.Session.Send("initos reboot\n");
        vm.Expect("reboot: Restarting system", TimeSpan.FromSeconds(120));
        vm.ExpectExit();
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// Types the line again every 30 s until it prints what it should: the bomb's last processes
    /// may still fill the process table for a while after it stopped (longer on a slow machine),
    /// and the shell gives up a whole line when one of its forks fails. PID 1 must answer within
    /// <paramref name="timeout"/>.
    /// </summary>
    private static void ShellUntilAnswered(VmBoot vm, string line, string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                Shell(vm, line, expected, TimeSpan.FromSeconds(30));
                return;
            }
            catch (QemuTimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>Types a line into the console service's shell and waits for what it should print (after the line itself).</summary>
    private static void Shell(VmBoot vm, string line, string expected, TimeSpan? timeout = null)
    {
        var marker = $"STEP-{Guid.NewGuid():N}"[..13];
        vm.Session.Send($"echo {marker}; {line}\n");
        vm.Expect($@"^{marker}\s*$[\s\S]*{expected}", timeout);
    }
}

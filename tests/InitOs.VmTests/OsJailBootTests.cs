using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The real OS in a jail under InitOS (modes privileged and unprivileged): the default OS's
/// init is PID 1 of its jail on an overlay whose upper layer is a pool slot on the btrfs data
/// volume; its reboot(2) restarts it; its poweroff powers the host off; the sidecar lists the
/// jail and, through `jail debug`, reaches into it with the toolbox's shell.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class OsJailBootTests : IDisposable
{
    /// <summary>Run by the OS's busybox init once per start: the first start reboots, the next ones stay up.</summary>
    private const string Lifecycle = """
        #!/bin/sh
        fresh=yes; [ -e /from-an-earlier-start ] && fresh=no
        echo "LIFECYCLE start=$INITOS_JAIL_STARTS container=$container uid_map=$(tr -s ' ' < /proc/self/uid_map) fresh=$fresh"
        touch /from-an-earlier-start
        if [ "$INITOS_JAIL_STARTS" = 1 ]; then reboot; fi
        """;

    private const string Inittab = """
        ::once:/etc/lifecycle
        ::askfirst:-/bin/sh
        ::shutdown:/bin/sync
        """;

    private readonly BootImages _images;
    private readonly TempDirectory _keys = new("initos-os-keys-");

    public OsJailBootTests(BootImages images) => _images = images;

    public void Dispose() => _keys.Dispose();

    [Fact]
    public void Privileged_the_os_is_pid_1_on_an_overlay_its_reboot_restarts_it_and_its_poweroff_ends_the_host()
    {
        using var scratch = new TempDirectory("initos-os-screen-");
        var (vm, client, target) = Boot("privileged", scratch.File("qmp.sock"));
        using (vm)
        {
            using var qmp = QmpClient.Connect(scratch.File("qmp.sock"), TimeSpan.FromSeconds(30));
            vm.Expect(@"os: upper layers from the pool /run/initos/data/pool \(2 slots of 64 MiB");
            vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=overlay");
            vm.Expect("LIFECYCLE start=1 container=initos");
            vm.Expect(@"os: the OS rebooted \(pid \d+ killed by signal 1\)");
            // A new upper layer for the new start: what the first start wrote is gone.
            vm.Expect("LIFECYCLE start=2 container=initos uid_map= 0 0 4294967295 fresh=yes");
            Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(vm.Session.Log, "INITOS-OS-UP uptime=[\\d.]+ pid=1 hostname=initos-default rootfs=overlay"));

            var status = AdminSessions.RunWhenUp(client, target, "status");
            Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
            Assert.Contains("mode:     privileged", status.Output, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  os running pid \d+ uid_map 0 0 4294967295", status.Output);
            Assert.Matches(@"(?m)^os\s+running\s+\d+\s+2 ", status.Output);
            Assert.Matches(@"os \d+\.\d+ [\d.]+", status.Output);

            // The debug shell is the toolbox's, in the jail's namespaces: it sees the OS's files and its PID 1.
            var look = client.Run(target, "jail debug os cat /proc/1/cmdline /from-an-earlier-start");
            Assert.True(look.Succeeded, $"{look.ExitCode}: {look.Output} {look.Error}");
            Assert.StartsWith("/bin/busybox", look.Output.Replace('\0', ' '), StringComparison.Ordinal);

            // This machine has a screen with a USB keyboard and a serial line. What is typed on the screen's
            // keyboard reaches the OS's shell (busybox init's askfirst), which answers on both consoles;
            // the serial line's input reaches it too (below).
            vm.ExpectPrompt("Please press Enter to activate this console");
            VgaScreen.WaitFor(qmp, scratch.Path, "Please press Enter to activate this console");
            qmp.TypeText("screen", "\n");
            qmp.TypeText("screen", "echo typed-$((6*7)) in $(hostname)\n");
            vm.Expect(@"^typed-42 in initos-default\s*$");
            VgaScreen.WaitFor(qmp, scratch.Path, "\ntyped-42 in initos-default\n");

            // The admin door is closed to the OS on the jails' bridge, at the gateway and at the host's own address,
            // though the host answers there (ping) and admins get in through eth0.
            vm.Session.Send("nc -w 5 10.88.0.1 22 </dev/null; echo DOOR-AT-GATEWAY=$?; nc -w 5 10.0.2.15 22 </dev/null; echo DOOR-AT-HOST-ADDRESS=$?; ping -c1 -W5 10.88.0.1 >/dev/null; echo GATEWAY-PING=$?\n");
            vm.Expect("DOOR-AT-GATEWAY=1");
            vm.Expect("DOOR-AT-HOST-ADDRESS=1");
            vm.Expect("GATEWAY-PING=0");
            Assert.DoesNotContain("SSH-2.0", vm.Session.Log, StringComparison.Ordinal);

            client.Run(target, "jail debug os poweroff");
            vm.Expect(@"os: the OS powered off or halted \(pid \d+ killed by signal 2\)");
            vm.Expect("service os: .*the host follows: poweroff");
            vm.Expect("shutdown: powering off");
            vm.ExpectExit();
        }
    }

    [Fact]
    public void Unprivileged_uid_0_of_the_os_is_an_unprivileged_host_range_and_a_host_poweroff_shuts_the_os_down_first()
    {
        var (vm, client, target) = Boot("unprivileged");
        using (vm)
        {
            vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=overlay");
            // keep_upper = true here: start 2 finds what start 1 wrote.
            var inside = vm.Expect(@"LIFECYCLE start=2 container=initos uid_map= 0 (?<host>\d+) 65536 fresh=no");
            var status = AdminSessions.RunWhenUp(client, target, "status");
            Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
            Assert.Contains("mode:     unprivileged", status.Output, StringComparison.Ordinal);
            var fromHost = System.Text.RegularExpressions.Regex.Match(status.Output, @"(?m)^  os running pid \d+ uid_map 0 (?<host>\d+) 65536");
            Assert.True(fromHost.Success, status.Output);
            Assert.True(long.Parse(fromHost.Groups["host"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 65536, "an unprivileged range, far from host root");
            Assert.Equal(inside.Groups["host"].Value, fromHost.Groups["host"].Value);
            // The door (and this session, its child) stands apart from the OS and last in the OOM killer's queue.
            Assert.Contains("door:     cgroup /initos/sidecar, oom_score_adj -900", status.Output, StringComparison.Ordinal);

            ARunawayOsStaysInItsBoundsAndTheDoorAnswers(vm, client, target);

            // The host shuts down: the OS gets its own poweroff signal (busybox init: SIGUSR2) and ends in time.
            client.Run(target, "poweroff");
            vm.Expect(@"os: the OS powered off or halted \(pid \d+ killed by signal 2\)");
            vm.Expect("service os: stopped");
            vm.Expect("shutdown: powering off");
            vm.ExpectExit();
            Assert.DoesNotContain("still running 30 s after SIGUSR2", vm.Session.Log, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The OS fills its /tmp and forks without end: its tmpfs size and its cgroup's pids.max (both
    /// from [os]) stop it, and the admin door still answers meanwhile. Then the OS calls its bomb off.
    /// </summary>
    private static void ARunawayOsStaysInItsBoundsAndTheDoorAnswers(VmBoot vm, AdminClient client, AdminTarget target)
    {
        vm.Expect(@"os: bounded by memory\.max 256 MiB, pids\.max 200, /tmp 32 MiB, /run 16 MiB");
        vm.ExpectPrompt("Please press Enter to activate this console");
        vm.Session.Send("\n");
        vm.Session.Send("dd if=/dev/zero of=/tmp/fill bs=1M 2>/dev/null; echo TMP-FULL=$(du -m /tmp/fill | cut -f1)\n");
        vm.Expect(@"^TMP-FULL=32\s*$");
        // ash builtins only once the bomb runs: `[` and `: >` need no fork.
        vm.Session.Send("bomb() { [ -e /run/stop ] && return; bomb | bomb & }; bomb\n");
        vm.Expect("can't fork");
        var during = AdminSessions.RunWhenUp(client, target, "status");
        Assert.True(during.Succeeded, $"{during.ExitCode}: {during.Error}");
        Assert.Matches(@"(?m)^  os running pid \d+", during.Output);
        vm.Session.Send(": > /run/stop\n");
    }

    /// <param name="qmpSocket">Given: the machine has a VGA screen with a USB keyboard beside its serial line (consoles tty0 and ttyS0), and QMP there.</param>
    private (VmBoot Vm, AdminClient Client, AdminTarget Target) Boot(string mode, string? qmpSocket = null)
    {
        // Beside the initramfs that carries it: both are shared by the tests of this class.
        var key = _images.Scratch("os-jail-admin");
        if (!File.Exists(key))
        {
            SidecarSshBootTests.NewKey(key);
        }
        var rootfs = _images.Scratch("os-jail-rootfs.img");
        if (!File.Exists(rootfs))
        {
            DiskImages.DefaultRootfs(rootfs, extras:
            [
                new DefaultRootfs.ExtraFile("etc/lifecycle", Lifecycle + "\n"),
                new DefaultRootfs.ExtraFile("etc/inittab", Inittab + "\n", 0x1A4),
            ]);
        }
        var data = _images.Scratch($"os-jail-data-{mode}.img");
        File.Delete(data);
        Tool.Run("truncate", "-s", "256M", data);
        Tool.Run("mkfs.btrfs", "-q", "-L", "initos-data", data);
        var initramfs = _images.InitramfsWith($"os-jail-{mode}", GuestConfig.Pid1($$"""
            [root]
            device = "LABEL=initos-root"

            [data]
            device = "LABEL=initos-data"

            [os]
            keep_upper = {{(mode == "unprivileged" ? "true" : "false")}}
            pool_slots = 2
            pool_quota_mib = 64
            memory_max_mib = 256
            pids_max = 200
            tmp_size_mib = 32
            run_size_mib = 16

            """ + GuestConfig.DhcpAndSidecar(key + ".pub"),
            modules: "load = [\"virtio_blk\", \"ext4\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"btrfs\", \"overlay\", \"bridge\", \"veth\", \"xhci_pci\", \"usbhid\", \"hid_generic\"]",
            mode: "privileged"));
        int port = SidecarSshBootTests.FreePort();
        var vm = new VmBoot($"{nameof(OsJailBootTests)}-{mode}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [rootfs, data],
            Append = $"{(qmpSocket is null ? "" : "console=tty0 ")}console=ttyS0,115200 panic=-1 quiet initos.mode={mode}",
            ExtraArguments = qmpSocket is null ? [] : ["-vga", "none", "-device", "VGA,id=screen", "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,bus=xhci.0,display=screen", "-qmp", $"unix:{qmpSocket},server=on,wait=off"],
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
        });
        var client = new AdminClient(key, new KnownHosts(_keys.File($"known_hosts-{mode}")), TimeSpan.FromSeconds(60));
        return (vm, client, new AdminTarget("127.0.0.1", port));
    }
}

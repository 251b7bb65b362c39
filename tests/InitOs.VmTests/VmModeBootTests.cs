using InitOs.Admin;
using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// Mode vm end to end, nested: the host (a QEMU guest itself) boots InitOS, which starts QEMU
/// from the VM kit on the data volume and boots the default OS's disk image in it (pc,
/// TCG inside TCG). The guest's console comes through the host's; its reboot restarts it with
/// its writes dropped; its poweroff powers the host off; the sidecar's status shows the VM.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class VmModeBootTests : IDisposable
{
    /// <summary>Run by the guest's busybox init at every start: start 1 writes to its disk and reboots; later ones check the write is gone and the network.</summary>
    private const string Lifecycle = """
        #!/bin/sh
        starts=$(sed -n 's/.*initos.vm_starts=\([0-9]*\).*/\1/p' /proc/cmdline)
        mount -o remount,rw /
        fresh=yes; [ -e /from-an-earlier-start ] && fresh=no
        echo "VM-LIFECYCLE start=$starts fresh=$fresh"
        touch /from-an-earlier-start
        sync
        if [ "$starts" = 1 ]; then reboot; exit; fi
        ping -c 1 -W 10 10.88.0.1 >/dev/null 2>&1 && echo "VM-NET start=$starts gateway answers"
        """;

    private const string Inittab = """
        ::once:/etc/lifecycle
        ::askfirst:-/bin/sh
        ::shutdown:/bin/sync
        """;

    private readonly BootImages _images;
    private readonly TempDirectory _keys = new("initos-vm-keys-");

    public VmModeBootTests(BootImages images) => _images = images;

    public void Dispose() => _keys.Dispose();

    /// <summary>Opt-in (`make slow-test`): TCG inside TCG takes minutes per guest boot.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Vm_the_os_boots_in_qemu_under_initos_its_reboot_restarts_it_fresh_and_its_poweroff_ends_the_host()
    {
        var key = _images.Scratch("vm-mode-admin");
        SidecarSshBootTests.NewKey(key);
        var guestDisk = _images.Scratch("vm-mode-guest.img");
        DiskImages.DefaultRootfs(guestDisk, extras:
        [
            new DefaultRootfs.ExtraFile("etc/lifecycle", Lifecycle + "\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", Inittab + "\n", 0x1A4),
        ]);
        var data = _images.Scratch("vm-mode-data.img");
        DataVolume.Create(new DataVolume.Spec
        {
            FsType = "ext4",
            SizeMiB = 192,
            VmKit = new VmKit.Spec(_images.Kernel, _images.Initramfs),
            Images = new Dictionary<string, string> { ["default.img"] = guestDisk },
        }, data);
        var initramfs = _images.InitramfsWith("vm-mode", GuestConfig.Pid1("""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "default.img"
            on_poweroff = "restart"
            stop_grace_seconds = 5

            [vm]
            memory_mib = 256

            """ + GuestConfig.DhcpAndSidecar(key + ".pub"),
            modules: "load = [\"virtio_blk\", \"ext4\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"bridge\", \"tun\"]",
            mode: "vm"));
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot(nameof(VmModeBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = "console=ttyS0 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 1024,
        });
        var client = new AdminClient(key, new KnownHosts(_keys.File("known_hosts")), TimeSpan.FromSeconds(60));
        var target = new AdminTarget("127.0.0.1", port);
        var slow = TimeSpan.FromMinutes(20); // one nested guest boot took 4 to over 10 minutes here

        vm.Expect(@"os: VM kit /run/initos/data/vm: auto, 256 MiB");
        vm.Expect(@"os: start 1: QEMU pid \d+ \(TCG, pc\) boots /run/initos/data/images/default.img, NIC on vt[0-9a-f]{8}");
        vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4", slow);
        vm.Expect("VM-LIFECYCLE start=1 fresh=yes", slow);
        vm.Expect(@"os: the OS rebooted \(QEMU pid \d+ exited 0, GuestReboot shutdown event\)", slow);
        // A new start on the same disk image: what start 1 wrote went with its snapshot.
        vm.Expect("VM-LIFECYCLE start=2 fresh=yes", slow);
        vm.Expect("VM-NET start=2 gateway answers", slow);

        // Typed on the host's console, the guest's poweroff: on_poweroff = "restart" starts it again.
        // busybox's askfirst prompt is up by now (it prints while the lifecycle runs).
        vm.Session.Send("\n");
        vm.Session.Send("echo TYPED-$((6 * 7)); poweroff\n");
        vm.Expect("TYPED-42", slow);
        vm.Expect(@"os: the OS powered off or halted \(QEMU pid \d+ exited 0, GuestPowerOff shutdown event\)", slow);
        // Start 3 need not finish booting: the power button is pressed wherever it is.
        vm.Expect(@"os: start 3: QEMU pid \d+", slow);

        var status = AdminSessions.RunWhenUp(client, target, "status");
        Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
        Assert.Contains("mode:     vm", status.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^os\s+running\s+\d+\s+3 ", status.Output);

        // The host shuts down: the guest's power button first. Busybox runs no ACPI daemon, so
        // after the grace QEMU is killed; then the host powers off.
        client.Run(target, "poweroff");
        vm.Expect(@"service os: asked the VM to power down \(ACPI power button\)");
        vm.Expect(@"service os: still running 5 s after asked the VM to power down");
        vm.Expect("shutdown: powering off", TimeSpan.FromSeconds(60));
        vm.ExpectExit();
    }
}

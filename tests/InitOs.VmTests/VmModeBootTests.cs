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

    /// <summary>
    /// Mode vm with an OS image from a bundle (nested, opt-in as above): the guest boots os 1.0
    /// from images/os; 2.0 (an ext4 disk whose OS serves HTTP on 8080) is applied over ssh,
    /// staged as images/os@2.0, the VM restarted on it (proven, its writes dropped), and judged
    /// by the sidecar: QEMU running, the guest's InitOS reaching its OS's init (PID 1 sees its
    /// exec line on the console) and a probe of the guest's address; then blessed.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Vm_an_os_image_from_a_bundle_restarts_the_guest_on_it_and_is_judged_by_the_guest_and_its_probe()
    {
        var admin = _images.Scratch("vm-upgrade-admin");
        var release = _images.Scratch("vm-upgrade-release");
        SidecarSshBootTests.NewKey(admin);
        SidecarSshBootTests.NewKey(release);
        var data = _images.Scratch("vm-upgrade-data.img");
        DataVolume.Create(new DataVolume.Spec
        {
            FsType = "ext4",
            SizeMiB = 320,
            VmKit = new VmKit.Spec(_images.Kernel, _images.Initramfs),
            Images = new Dictionary<string, string> { ["os"] = GuestDisk("1.0") },
        }, data);
        var bundle = _images.Scratch("vm-upgrade-2.0.bundle.tar");
        InitOs.ImageBuild.Bundle.BundleWriter.Write(new InitOs.ImageBuild.Bundle.BundleSpec("2.0", "qemu-vm", "1.0", null, [new("os", GuestDisk("2.0"))], release), bundle);
        var initramfs = _images.InitramfsWith("vm-upgrade", GuestConfig.Pid1($$"""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            stop_grace_seconds = 5

            [vm]
            memory_mib = 256

            [upgrade]
            keys = ["{{File.ReadAllText(release + ".pub").Trim()}}"]
            compatible = "qemu-vm"
            min_version = "1.0"
            version = "1.0"
            tries = 2
            settle_seconds = 3
            deadline_seconds = 1500

            [[upgrade.probe]]
            http = "http://10.88.0.2:8080/"

            """ + GuestConfig.DhcpAndSidecar(admin + ".pub"),
            modules: "load = [\"virtio_blk\", \"ext4\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"bridge\", \"tun\"]",
            mode: "vm"));
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot("VmModeUpgradeBootTests", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = "console=ttyS0 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 1024,
        });
        var slow = TimeSpan.FromMinutes(20);
        // `upgrade apply` waits for the verdict, a nested guest boot away.
        var client = new AdminClient(admin, new KnownHosts(_keys.File("known_hosts")), TimeSpan.FromMinutes(30));
        var target = new AdminTarget("127.0.0.1", port);
        vm.Expect("VM-OS-VERSION=1.0", slow);

        var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(client, target, "upgrade apply", bundle));
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("upgrade: os@2.0 staged on the data volume (2 starts to prove itself)", applied.Output, StringComparison.Ordinal);
        Assert.Contains("upgrade: verdict on os@2.0: good; blessed", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"os: start 2 boots os@2\.0 \(ext4, sha256:[0-9a-f]{12}…, signed by SHA256:\S+\), proven");
        vm.Expect("VM-OS-VERSION=2.0", slow);

        var status = client.Run(target, "upgrade status --json");
        Assert.True(status.Succeeded, status.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(status.Output);
        var images = json.RootElement.GetProperty("os_images");
        Assert.Equal("os@2.0", images.GetProperty("running").GetString());
        Assert.Equal("os@2.0", images.GetProperty("good").GetString());
    }

    /// <summary>The default OS as an ext4 disk that says its version and serves it over HTTP on 8080.</summary>
    private string GuestDisk(string version)
    {
        var disk = _images.Scratch($"vm-upgrade-guest-{version}.img");
        DiskImages.DefaultRootfs(disk, extras:
        [
            new DefaultRootfs.ExtraFile("etc/announce", $"#!/bin/sh\necho \"VM-OS-VERSION={version}\"\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", "::once:/etc/announce\n::respawn:/usr/sbin/httpd -f -p 8080 -h /www\n" + DefaultRootfs.Inittab + "\n", 0x1A4),
            new DefaultRootfs.ExtraFile("www/index.html", $"os {version}\n", 0x1A4),
        ]);
        return disk;
    }
}

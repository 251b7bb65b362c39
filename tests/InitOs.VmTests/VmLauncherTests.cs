using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Rootfs;
using InitOs.Init.Config;
using InitOs.Jails.Vm;
using InitOs.Os;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The jails library's VM launcher, run directly on the CI machine (no nesting): QEMU boots the
/// default OS from its image as a virtio disk, with the host's kernel and InitOS's initramfs,
/// its serial console goes to a file, and QMP tells a guest reboot from a guest poweroff.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class VmLauncherTests
{
    /// <summary>The OS ends itself the way its kernel command line says (test.end=reboot|poweroff).</summary>
    private const string Lifecycle = """
        #!/bin/sh
        for word in $(cat /proc/cmdline); do
          case "$word" in
            test.end=reboot) echo VM-OS-REBOOTING; reboot ;;
            test.end=poweroff) echo VM-OS-POWERING-OFF; poweroff ;;
          esac
        done
        """;

    private readonly BootImages _images;

    public VmLauncherTests(BootImages images) => _images = images;

    [Theory]
    [InlineData("reboot", VmEnd.GuestReboot)]
    [InlineData("poweroff", VmEnd.GuestPowerOff)]
    public void The_launcher_boots_the_default_os_and_tells_its_reboot_from_its_poweroff(string end, VmEnd expected)
    {
        var disk = _images.Scratch($"vm-os-{end}.img");
        DiskImages.DefaultRootfs(disk, extras:
        [
            new DefaultRootfs.ExtraFile("etc/lifecycle", Lifecycle + "\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", "::once:/etc/lifecycle\n::shutdown:/bin/sync\n", 0x1A4),
        ]);
        var serial = _images.Scratch($"vm-{end}.serial");
        var spec = new VmSpec
        {
            Qemu = "/usr/bin/qemu-system-x86_64",
            Kernel = _images.Kernel,
            Initrd = _images.Initramfs,
            Disk = disk,
            Append = $"console=ttyS0 panic=-1 quiet root=LABEL=initos-root test.end={end}",
            Serial = serial,
            QmpSocket = _images.Scratch($"vm-{end}.qmp"),
        };
        Assert.Contains("accel=tcg", string.Join(' ', VmCommand.Arguments(spec with { Kvm = false })), StringComparison.Ordinal);
        using var machine = VmMachine.Start(spec);
        var exit = WaitForExit(machine.Pid, TimeSpan.FromSeconds(150), serial);
        var log = File.ReadAllText(serial);
        Assert.True(exit.Exited, $"QEMU {exit}: {File.ReadAllText(spec.QmpSocket + ".log")}\n{log}");
        Assert.Matches(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4", log);
        Assert.Contains(end == "reboot" ? "VM-OS-REBOOTING" : "VM-OS-POWERING-OFF", log, StringComparison.Ordinal);
        // The QMP reader may still be handling QEMU's last lines.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (machine.End == VmEnd.Unknown && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.Equal(expected, machine.End);
    }

    /// <summary>
    /// Mode vm's host side without nesting: QEMU runs from the verified copy (as mode vm makes it
    /// at boot, against the digests an initramfs build packs) of a kit staged by `initos build
    /// data --vm-kit`: its own loader, libraries, TCG module and firmware, not the host's. With
    /// snapshot on, the guest's writes never reach its disk image.
    /// </summary>
    [Fact]
    public void A_staged_kit_runs_qemu_under_its_own_loader_and_drops_the_guests_writes()
    {
        const string writeThenPowerOff = """
            #!/bin/sh
            mount -o remount,rw / && echo written > /written-by-the-guest && sync && echo KIT-GUEST-WROTE
            poweroff
            """;
        var disk = _images.Scratch("vm-kit-os.img");
        DiskImages.DefaultRootfs(disk, extras:
        [
            new DefaultRootfs.ExtraFile("etc/lifecycle", writeThenPowerOff + "\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", "::once:/etc/lifecycle\n::shutdown:/bin/sync\n", 0x1A4),
        ]);
        var before = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(disk)));
        using var kitDirectory = new TempDirectory("initos-vm-kit-");
        var kit = Path.Combine(kitDirectory.Path, "kit");
        VmKit.Stage(new VmKit.Spec(_images.Kernel, _images.Initramfs), kit);
        var digests = Path.Combine(kitDirectory.Path, "vm-kit.sha256");
        File.WriteAllText(digests, VmKit.Digests(VmKit.DefaultQemu).Format());
        var verified = Path.Combine(kitDirectory.Path, "verified");
        var copy = VmKitCopy.Make(kit, digests, verified);
        Assert.True(copy.Files >= 10, $"{copy.Files} files");
        string In(string relative) => Path.Combine(verified, relative);
        // The Debian kernel has CONFIG_PVH: the kit holds it uncompressed, for QEMU's PVH boot.
        Assert.Equal("7F454C46", Convert.ToHexString(File.ReadAllBytes(Path.Combine(kit, VmKitLayout.Kernel)).AsSpan(0, 4)));
        var serial = _images.Scratch("vm-kit.serial");
        var spec = new VmSpec
        {
            Qemu = In(VmKitLayout.Qemu),
            LibraryDirectory = In(VmKitLayout.Libraries),
            FirmwareDirectory = In(VmKitLayout.Firmware),
            ModuleDirectory = In(VmKitLayout.Modules),
            TemporaryDirectory = kitDirectory.Path,
            Kernel = Path.Combine(kit, VmKitLayout.Kernel),
            Initrd = Path.Combine(kit, VmKitLayout.Initrd),
            Disk = disk,
            Snapshot = true,
            Append = "console=ttyS0 panic=-1 quiet root=LABEL=initos-root",
            Serial = serial,
            QmpSocket = _images.Scratch("vm-kit.qmp"),
            Kvm = false,
        };
        using var machine = VmMachine.Start(spec);
        var exe = new FileInfo($"/proc/{machine.Pid}/exe").LinkTarget;
        var exit = WaitForExit(machine.Pid, TimeSpan.FromSeconds(150), serial);
        var log = File.ReadAllText(serial);
        Assert.True(exit.Exited, $"QEMU {exit}: {File.ReadAllText(spec.QmpSocket + ".log")}\n{log}");
        Assert.Equal(In(Path.Combine(VmKitLayout.Libraries, QemuBinary.Loader)), exe);
        Assert.Contains("KIT-GUEST-WROTE", log, StringComparison.Ordinal);
        Assert.Equal(before, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(disk))));
    }

    /// <summary>
    /// A kit on the data volume whose loader was replaced (here by a program that would run as
    /// host root) is refused by the check mode vm runs at boot, naming the file; nothing of the
    /// copy is left for QEMU to run.
    /// </summary>
    [Fact]
    public void A_kit_whose_loader_was_replaced_is_refused_naming_the_file()
    {
        using var kitDirectory = new TempDirectory("initos-vm-kit-");
        var kit = Path.Combine(kitDirectory.Path, "kit");
        VmKit.Stage(new VmKit.Spec(_images.Kernel, _images.Initramfs), kit);
        var digests = Path.Combine(kitDirectory.Path, "vm-kit.sha256");
        File.WriteAllText(digests, VmKit.Digests(VmKit.DefaultQemu).Format());
        var loader = Path.Combine(kit, VmKitLayout.Libraries, QemuBinary.Loader);
        File.Copy("/bin/busybox", loader, overwrite: true);
        var verified = Path.Combine(kitDirectory.Path, "verified");

        var e = Assert.Throws<InitOs.Init.Boot.BootException>(() => VmKitCopy.Make(kit, digests, verified));

        Assert.StartsWith($"the VM kit: {loader}: its SHA-256 is ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"that the signed {digests} holds for qemu/lib/{QemuBinary.Loader}: refused", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(verified));

        File.Delete(digests);
        Assert.Contains("this initramfs has none", Assert.Throws<InitOs.Init.Boot.BootException>(() => VmKitCopy.Make(kit, digests, verified)).Message, StringComparison.Ordinal);
    }

    private static ChildExit WaitForExit(int pid, TimeSpan limit, string serial)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (Processes.Wait(pid, noHang: true) is { } exit)
            {
                return exit;
            }
            Thread.Sleep(100);
        }
        Processes.Signal(pid, Signal.Kill);
        Processes.Wait(pid);
        File.Copy(serial, Path.Combine(RepoPaths.Artifacts, Path.GetFileName(serial) + ".log"), overwrite: true);
        throw new TimeoutException($"the VM did not end within {limit.TotalSeconds:F0} s; its console is in tests/artifacts");
    }
}

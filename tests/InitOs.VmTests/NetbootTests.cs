using InitOs.Efi.Uki;
using InitOs.ImageBuild.Disk;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// UEFI network boot: OVMF's own PXE client (no option ROM) fetches the boot file that
/// `initos build netboot` lays out, by TFTP from QEMU's user network, and runs the UKI. With a
/// local disk the OS on it comes up; with no disk at all, InitOS runs in initramfs mode.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class NetbootTests
{
    private static readonly TimeSpan PxeTimeout = TimeSpan.FromSeconds(300);
    private readonly BootImages _images;

    public NetbootTests(BootImages images) => _images = images;

    private string Serve(string name, string initrd, string cmdline)
    {
        var uki = _images.Scratch(name + ".efi");
        UkiBuilder.Build(new UkiSpec { Kernel = _images.Kernel, Initrd = initrd, Cmdline = cmdline, OsRelease = "NAME=\"InitOS\"\nID=initos\n" }, uki, keys: null);
        var directory = _images.Scratch(name + "-tftp");
        NetbootLayout.Write(uki, directory);
        Assert.True(File.Exists(Path.Combine(directory, NetbootLayout.DhcpNotes)));
        return directory;
    }

    private VmBoot Boot(string name, string directory, VarsCopy vars, IReadOnlyList<string> disks) =>
        new($"{nameof(NetbootTests)}-{name}", new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.PlainCode, vars.Path, SecureBoot: false),
            Tftp = (directory, NetbootLayout.BootFile),
            Disks = disks,
            MemoryMiB = 768,
        });

    [Fact]
    public void The_uki_boots_over_the_network_and_reaches_the_os_on_a_local_disk()
    {
        var directory = Serve("netboot-disk", _images.Initramfs, "console=ttyS0 panic=-1 quiet root=LABEL=initos-root");
        using var vars = VarsCopy.Of(UefiFirmware.BlankVars);
        using var vm = Boot("disk", directory, vars, [_images.CopyOfRootfs("netboot-rootfs.img")]);

        vm.Expect(@"firmware: UEFI, secure boot off", PxeTimeout);
        vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4");
    }

    [Fact]
    public void With_no_disk_at_all_an_initramfs_mode_machine_runs_its_services()
    {
        var initramfs = _images.InitramfsWith("netboot-diskless", GuestConfig.Pid1(GuestConfig.ConsoleShell));
        var directory = Serve("netboot-diskless", initramfs, "console=ttyS0 panic=-1 quiet");
        using var vars = VarsCopy.Of(UefiFirmware.BlankVars);
        using var vm = Boot("diskless", directory, vars, []);

        vm.Expect(@"firmware: UEFI, secure boot off", PxeTimeout);
        vm.Expect(@"service console: started");
        vm.Session.Send("echo DISKLESS-$(ls /sys/block | grep -c -v -e loop -e ram)\n");
        vm.Expect("DISKLESS-0");
    }
}

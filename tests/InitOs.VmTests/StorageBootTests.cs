using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// Roots on md RAID1 and on LVM, switch_root into the default OS: a LUKS2 root on a RAID1 array
/// (members found by the array UUID, assembled by mdadm, the passphrase typed on the serial
/// console), the same array with one disk missing (it boots degraded, and says so), and a root
/// on an LVM logical volume (its volume group activated, /dev/mapper/VG-LV as root=).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class StorageBootTests
{
    private const string Passphrase = "correct horse battery staple";
    private const string Modules = "load = [\"virtio_pci\", \"virtio_blk\", \"ext4\"]\ninclude = []";

    private readonly BootImages _images;

    public StorageBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_luks2_root_on_raid1_boots_from_both_disks_and_from_one_degraded_with_a_warning()
    {
        var plain = _images.Scratch("raid-root-plain.img");
        DiskImages.DefaultRootfs(plain);
        var luks = _images.Scratch("raid-root-luks.img");
        var luksUuid = LuksImage.Encrypt(plain, luks, Passphrase);
        var members = new[] { _images.Scratch("raid-a.img"), _images.Scratch("raid-b.img") };
        var arrayUuid = MdImage.CreateRaid1(luks, members, "mirror");
        File.Delete(plain);
        File.Delete(luks);
        var initramfs = _images.InitramfsWith("raid", GuestConfig.Pid1($$"""
            [[raid]]
            uuid = "{{arrayUuid}}"
            name = "mirror"
            wait_seconds = 3

            [[crypt]]
            device = "UUID={{luksUuid}}"
            name = "root"

            [root]
            device = "/dev/mapper/root"
            """, modules: Modules, mode: "switch_root"));

        using (var vm = Boot("raid-both", initramfs, members))
        {
            vm.Expect(@"raid: /dev/md/mirror is mirror \(/dev/md\d+\): raid1, 2 of 2 members \(/dev/vda, /dev/vdb\), healthy");
            vm.ExpectPrompt(@"Passphrase for root \(/dev/md\d+\)");
            vm.Session.Send(Passphrase + "\n");
            vm.Expect(@"crypt: root \(/dev/md\d+\) opened by passphrase \(key slot 0\) as /dev/mapper/root");
            vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4");
            Assert.DoesNotContain("DEGRADED", vm.Session.Log, StringComparison.Ordinal);
        }

        using (var vm = Boot("raid-degraded", initramfs, [members[1]]))
        {
            vm.Expect(@"raid: mirror: 1 of 2 members after 3 s \(/dev/vda\); starting it degraded");
            vm.Expect(@"raid: /dev/md/mirror is mirror \(/dev/md\d+\): raid1, 1 of 2 members \(/dev/vda\), DEGRADED, 1 of 2 members missing");
            vm.Expect(@"raid: mirror runs DEGRADED: 1 of its 2 members missing; the data has no second copy until a disk is added \(mdadm --add /dev/md/mirror DISK\)");
            vm.ExpectPrompt(@"Passphrase for root \(/dev/md\d+\)");
            vm.Session.Send(Passphrase + "\n");
            vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4");
        }
    }

    [Fact]
    public void A_root_on_an_lvm_logical_volume_boots_once_its_volume_group_is_activated()
    {
        var plain = _images.Scratch("lvm-root-plain.img");
        DiskImages.DefaultRootfs(plain);
        var disk = _images.Scratch("lvm-disk.img");
        LvmImage.Create(plain, disk, "initosvg", "root");
        File.Delete(plain);
        var initramfs = _images.InitramfsWith("lvm", GuestConfig.Pid1("""
            [[lvm]]
            vg = "initosvg"

            [root]
            device = "/dev/mapper/initosvg-root"
            """, modules: Modules, mode: "switch_root"));

        using var vm = Boot("lvm-root", initramfs, [disk]);
        vm.Expect(@"lvm: volume group initosvg active: /dev/mapper/initosvg-root");
        vm.Expect(@"root=/dev/mapper/initosvg-root is /dev/dm-0 ");
        vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4");
    }

    private VmBoot Boot(string name, string initramfs, string[] disks) =>
        new(name, new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = disks,
            Append = "console=ttyS0 panic=-1",
        });
}

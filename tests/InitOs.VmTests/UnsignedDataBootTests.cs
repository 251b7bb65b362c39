using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The data volume is not signed (any disk labelled initos-data stands in for it), so what the
/// host runs from it is checked against the signed initramfs first. Three boots of one
/// initramfs: a privileged OS whose image matches the manifest its config pins comes up; on a
/// volume with one byte of that image changed it is refused by name; and on the same volume,
/// mode vm refuses a VM kit whose loader has one byte changed, against the digests the build packed.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class UnsignedDataBootTests
{
    private readonly BootImages _images;

    public UnsignedDataBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_privileged_image_and_a_vm_kit_run_only_as_signed_one_changed_byte_is_refused_by_name()
    {
        using var tree = new TempDirectory("initos-trusted-os-");
        DefaultRootfs.Stage(tree.Path);
        var good = _images.Scratch("unsigned-data-good.img");
        var report = DataVolume.Create(new DataVolume.Spec
        {
            FsType = "ext4",
            SizeMiB = 192,
            VmKit = new VmKit.Spec(_images.Kernel, _images.Initramfs),
            Images = new Dictionary<string, string> { ["os"] = tree.Path },
        }, good);
        var initramfs = _images.InitramfsWith("unsigned-data", GuestConfig.Pid1($$"""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            image_digest = "{{report.ImageDigests["os"]}}"
            network = "none"

            """,
            modules: "load = [\"virtio_blk\", \"ext4\"]\ninclude = [\"virtio_pci\", \"overlay\"]",
            mode: "privileged"));
        var tampered = _images.Scratch("unsigned-data-tampered.img");
        File.Copy(good, tampered, overwrite: true);
        Ext4Image.FlipByte(tampered, "/images/os/etc/hostname", 3);
        Ext4Image.FlipByte(tampered, "/vm/qemu/lib/ld-linux-x86-64.so.2", 4096);

        using (var vm = Boot("good", initramfs, good, "privileged"))
        {
            vm.Expect(@"data: /dev/vda on /run/initos/data \(ext4, rw, noexec\)");
            vm.Expect(@"os: image /run/initos/data/images/os matches its manifest \(sha256:[0-9a-f]{12}…\): \d+ entries");
            vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=overlay");
        }
        using (var vm = Boot("tampered-image", initramfs, tampered, "privileged"))
        {
            vm.Expect(@"os\.image: the image /run/initos/data/images/os is not what its signed manifest says: etc/hostname differs \(content\): refused");
            vm.ExpectExit();
            Assert.DoesNotContain("INITOS-OS-UP", vm.Session.Log, StringComparison.Ordinal);
        }
        using (var vm = Boot("tampered-kit", initramfs, tampered, "vm"))
        {
            vm.Expect(@"the VM kit: /run/initos/data/vm/qemu/lib/ld-linux-x86-64\.so\.2: its SHA-256 is [0-9a-f]{16}…, not the [0-9a-f]{16}… that the signed /etc/initos/vm-kit\.sha256 holds for qemu/lib/ld-linux-x86-64\.so\.2: refused");
            vm.ExpectExit();
            Assert.DoesNotContain("QEMU pid", vm.Session.Log, StringComparison.Ordinal);
        }
    }

    private VmBoot Boot(string name, string initramfs, string data, string mode) =>
        new($"{nameof(UnsignedDataBootTests)}-{name}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = $"console=ttyS0 panic=-1 quiet initos.mode={mode}",
            MemoryMiB = 512,
        });
}

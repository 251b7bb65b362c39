using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A LUKS2 root ([[crypt]], switch_root into the default OS): the passphrase is typed over the
/// serial console, a wrong one is counted and asked again, and a wrong passphrase at every try
/// leaves the volume locked and follows the failure policy (poweroff here). The data volume on
/// LUKS2 (the sidecar's host keys on it, a recovery key, `status`) is TpmCryptBootTests'.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class CryptBootTests
{
    private const string Passphrase = "correct horse battery staple";

    private readonly BootImages _images;

    public CryptBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_luks2_root_opens_with_its_passphrase_after_a_wrong_one()
    {
        var (disk, initramfs) = Machine();
        using var vm = Boot(initramfs, disk, "crypt-passphrase");
        vm.ExpectPrompt(@"Passphrase for root \(/dev/vda\), or its recovery key \(Control-D to give up\): ");
        vm.Session.Send("not it\n");
        // The log is searched whole: the prompt wanted is the one after this verdict (a prompt drops what was typed before it).
        vm.ExpectPrompt(@"crypt: wrong passphrase for root \(1 of 3\)[\s\S]*Passphrase for root");
        vm.Session.Send(Passphrase + "\n");
        vm.Expect(@"crypt: root \(/dev/vda\) opened by passphrase \(key slot 0\) as /dev/mapper/root");
        vm.Expect(@"root=/dev/mapper/root is /dev/dm-0 ");
        vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4");
        // Not echoed, not logged.
        Assert.DoesNotContain(Passphrase, vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_passphrase_at_every_try_leaves_the_root_locked_and_follows_the_failure_policy()
    {
        var (disk, initramfs) = Machine();
        using var vm = Boot(initramfs, disk, "crypt-wrong");
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            // The log is searched whole: the prompt wanted is the one after the last verdict (a prompt drops what was typed before it).
            vm.ExpectPrompt(attempt == 1 ? "Passphrase for root" : $@"crypt: wrong passphrase for root \({attempt - 1} of 3\)[\s\S]*Passphrase for root");
            vm.Session.Send($"wrong {attempt}\n");
        }
        vm.Expect(@"crypt: wrong passphrase for root 3 times");
        vm.Expect(@"crypt: root \(UUID=[0-9a-f-]+ on /dev/vda\) stays locked: no key source opened it \(passphrase\)");
        vm.Expect(@"powering off \(failure policy\)");
        vm.ExpectExit();
        Assert.DoesNotContain("INITOS-OS-UP", vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>The encrypted disk (the default OS inside LUKS2, a passphrase and a recovery key) and the initramfs that opens it; made once per run.</summary>
    private (string Disk, string Initramfs) Machine()
    {
        var disk = _images.Scratch("crypt-root.img");
        var uuidFile = disk + ".uuid";
        if (!File.Exists(uuidFile))
        {
            var plain = _images.Scratch("crypt-root-plain.img");
            DiskImages.DefaultRootfs(plain);
            var uuid = LuksImage.Encrypt(plain, disk, Passphrase);
            File.Delete(plain);
            File.WriteAllText(uuidFile, uuid);
        }
        var initramfs = _images.InitramfsWith("crypt", GuestConfig.Pid1($$"""
            [[crypt]]
            device = "UUID={{File.ReadAllText(uuidFile)}}"
            name = "root"
            tries = 3

            [root]
            device = "/dev/mapper/root"
            """,
            modules: "load = [\"virtio_pci\", \"virtio_blk\", \"ext4\"]\ninclude = []",
            mode: "switch_root"));
        return (disk, initramfs);
    }

    private VmBoot Boot(string initramfs, string disk, string name)
    {
        // Each boot on its own copy: the OS writes nothing, but a copy keeps the boots apart.
        var copy = _images.Scratch($"{name}.img");
        File.Copy(disk, copy, overwrite: true);
        return new VmBoot(name, new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [copy],
            Append = "console=ttyS0 panic=-1",
        });
    }
}

using System.Text;
using InitOs.ImageBuild.Disk;
using InitOs.Efi.Pe;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The signed boot chain under OVMF with Secure Boot enforced: what is signed with a key in db
/// boots (and PID 1 says so, with the PCR 11 the build predicted); what is unsigned, tampered
/// with after signing, or signed with another key never reaches PID 1.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class SignedBootTests
{
    private const string Cmdline = "console=ttyS0 panic=-1 quiet root=LABEL=initos-root";
    private const string Refused = "Access Denied|Security Violation";
    private const string Pid1Started = "starting as PID 1";
    private static readonly TimeSpan FirmwareTimeout = TimeSpan.FromSeconds(180);

    private readonly BootImages _images;

    public SignedBootTests(BootImages images) => _images = images;

    private UkiSpec Spec => new()
    {
        Kernel = _images.Kernel,
        Initrd = _images.Initramfs,
        Cmdline = Cmdline,
        OsRelease = "NAME=\"InitOS\"\nID=initos\n",
    };

    private KeySet Snakeoil => KeySet.Snakeoil(_images.Scratch("keys-snakeoil"));

    private KeySet OwnKeys
    {
        get
        {
            var directory = _images.Scratch("keys-own");
            return Directory.Exists(directory) ? KeySet.Open(directory) : KeyGenerator.Generate(directory, "InitOS test");
        }
    }

    /// <summary>A UKI (signed with <paramref name="keys"/>, or not), changed by <paramref name="tamper"/> after signing, on a disk with the default OS.</summary>
    private string Disk(string name, KeySet? keys, Action<byte[]>? tamper = null, UkiSpec? spec = null)
    {
        var uki = _images.Scratch(name + ".efi");
        var built = UkiBuilder.Build(spec ?? Spec, uki, keys);
        if (tamper is not null)
        {
            var bytes = File.ReadAllBytes(uki);
            tamper(bytes);
            File.WriteAllBytes(uki, bytes);
        }
        var disk = _images.Scratch(name + ".img");
        BootDisk.Write(new BootDisk.Layout(uki, _images.Rootfs, null, false, null, null, 32L << 20), disk);
        File.WriteAllText(disk + ".pcr11", built.Pcr11);
        return disk;
    }

    private static VmBoot Boot(string name, string disk, string vars, SoftwareTpm? tpm = null, string? secondDisk = null) =>
        new(name, new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars, SecureBoot: true),
            Disks = secondDisk is null ? [disk] : [disk, secondDisk],
            TpmSocket = tpm?.Socket,
        });

    private const string RecoveryPassword = "correct-horse-battery";
    private const string PasswordPrompt = @"give the recovery password for the emergency shell \(Control-D to give up\): ";

    /// <summary>A disk whose label makes the root ambiguous: the boot fails, as anyone with a USB stick can make it.</summary>
    private string ImpostorRoot()
    {
        var impostor = _images.Scratch("impostor-root.img");
        File.Delete(impostor);
        Tool.Run("truncate", "-s", "16M", impostor);
        Tool.Run("mkfs.ext4", "-q", "-L", "initos-root", impostor);
        return impostor;
    }

    [Fact]
    public void Under_secure_boot_a_failed_boot_gives_no_free_shell_and_initos_break_none()
    {
        var disk = Disk("signed-break", Snakeoil, spec: Spec with { Cmdline = Cmdline + " initos.break=modules" });
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        using var vm = Boot(nameof(Under_secure_boot_a_failed_boot_gives_no_free_shell_and_initos_break_none), disk, vars.Path, secondDisk: ImpostorRoot());

        vm.Expect(@"firmware: UEFI, secure boot on", FirmwareTimeout);
        vm.Expect(@"initos\.break refused: the machine booted under Secure Boot and \[recovery\] password_hash is not set");
        vm.Expect("initos.break: no shell; the boot goes on");
        vm.Expect("root=LABEL=initos-root matches 2 devices");
        vm.Expect(@"the emergency shell refused: the machine booted under Secure Boot and \[recovery\] password_hash is not set; following on_failure = ""reboot"" instead");
        vm.Expect(@"rebooting \(failure policy\)");
        vm.ExpectExit();
        Assert.DoesNotContain("(initos emergency)", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Under_secure_boot_only_the_recovery_password_from_the_signed_config_opens_the_emergency_shell()
    {
        var hash = Tool.Run("openssl", "passwd", "-6", "-salt", "initostestsalt", RecoveryPassword).Trim();
        var initramfs = _images.InitramfsWith("recovery", File.ReadAllText(RepoPaths.DefaultConfig) + $"\n[recovery]\npassword_hash = \"{hash}\"\n");
        var disk = Disk("signed-recovery", Snakeoil, spec: Spec with { Initrd = initramfs });
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        using var vm = Boot(nameof(Under_secure_boot_only_the_recovery_password_from_the_signed_config_opens_the_emergency_shell), disk, vars.Path, secondDisk: ImpostorRoot());

        vm.Expect("root=LABEL=initos-root matches 2 devices", FirmwareTimeout);
        vm.ExpectPrompt(PasswordPrompt);
        vm.Session.Send("not-the-password\n");
        vm.Expect(@"wrong recovery password \(1 of 3\)");
        vm.ExpectPrompt(@"\(1 of 3\)[\s\S]*" + PasswordPrompt);
        vm.Session.Send(RecoveryPassword + "\n");
        vm.Expect("recovery password accepted for the emergency shell");
        vm.ExpectPrompt(@"\(initos emergency\) [^\n]*# ");
        vm.Session.Send("echo SHELL-$((6 * 7))\n");
        vm.Expect("SHELL-42");
        // Neither answer was echoed to the console.
        Assert.DoesNotContain("not-the-password", vm.Session.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(RecoveryPassword, vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_uki_boots_pid1_sees_secure_boot_and_the_predicted_pcr11_and_modules_load_under_lockdown()
    {
        var disk = Disk("signed", Snakeoil);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        using var tpm = new SoftwareTpm();
        using var vm = Boot(nameof(A_signed_uki_boots_pid1_sees_secure_boot_and_the_predicted_pcr11_and_modules_load_under_lockdown), disk, vars.Path, tpm);

        vm.Expect(@"firmware: UEFI, secure boot on \(kernel lockdown: integrity\)", FirmwareTimeout);
        var pcr = vm.Expect(@"tpm: PCR 11 \(sha256\) = (?<v>[0-9a-f]{64})");
        Assert.Equal(File.ReadAllText(disk + ".pcr11"), pcr.Groups["v"].Value);
        // virtio_blk and ext4 are modules: the root is only found if they loaded under lockdown.
        vm.Expect(@"loaded \d+ configured modules: .*virtio_blk.*ext4");
        vm.Expect("INITOS-OS-UP");
    }

    /// <summary>
    /// The disk image `initos build disk` writes, as a USB stick on xHCI (written with dd, it is
    /// byte for byte this): OVMF with Secure Boot boots the signed UKI from it, and InitOS's
    /// generic profile finds the root on the same stick (xhci_pci, usb_storage, sd_mod).
    /// </summary>
    [Fact]
    public void A_usb_stick_with_the_built_disk_boots_under_secure_boot_and_finds_its_own_root()
    {
        var generic = _images.InitramfsWith("generic-usb-stick", File.ReadAllText(RepoPaths.DefaultConfig), configProfile: true);
        var uki = _images.Scratch("usb-stick.efi");
        UkiBuilder.Build(Spec with { Initrd = generic }, uki, Snakeoil);
        var stick = _images.Scratch("usb-stick.img");
        BootDisk.Write(new BootDisk.Layout(uki, _images.Rootfs, null, false, null, null, 64L << 20), stick);
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        using var vm = new VmBoot(nameof(A_usb_stick_with_the_built_disk_boots_under_secure_boot_and_finds_its_own_root), new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars.Path, SecureBoot: true),
            ExtraArguments = ["-drive", $"file={stick},format=raw,if=none,id=stick", "-device", "qemu-xhci,id=xhci", "-device", "usb-storage,drive=stick,bus=xhci.0,bootindex=0"],
            MemoryMiB = 768,
        });

        vm.Expect(@"firmware: UEFI, secure boot on", FirmwareTimeout);
        vm.Expect(@"coldplug loaded \d+ modules: .*\bxhci_pci\b");
        vm.Expect(@"root=LABEL=initos-root is /dev/sd[a-z]2 ", TimeSpan.FromSeconds(120));
        vm.Expect("INITOS-OS-UP");
    }

    public static TheoryData<string> Refusals => ["unsigned", "initrd-byte-flipped", "cmdline-changed", "other-key"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public void The_firmware_refuses_an_image_that_is_unsigned_tampered_with_or_signed_by_a_key_not_in_db(string kind)
    {
        var disk = kind switch
        {
            "unsigned" => Disk(kind, null),
            "initrd-byte-flipped" => Disk(kind, Snakeoil, bytes => Flip(bytes, ".initrd", 100)),
            "cmdline-changed" => Disk(kind, Snakeoil, bytes => Replace(bytes, ".cmdline", "quiet", "debug")),
            "other-key" => Disk(kind, OwnKeys),
            _ => throw new ArgumentException(kind),
        };
        using var vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        using var vm = Boot("refused-" + kind, disk, vars.Path);
        vm.Expect(Refused, FirmwareTimeout);
        Assert.DoesNotContain(Pid1Started, vm.Session.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// Own keys into a blank variable store (setup mode): systemd-boot 252 enrols PK, KEK and db
    /// and resets; from then on an image signed with them boots, and Debian's test key is refused.
    /// </summary>
    [Fact]
    public void After_systemd_boot_enrols_our_keys_our_image_boots_and_one_signed_with_the_debian_test_key_is_refused()
    {
        var keys = OwnKeys;
        var uki = _images.Scratch("own.efi");
        UkiBuilder.Build(Spec, uki, keys);
        var enrolling = _images.Scratch("enrolling.img");
        BootDisk.Write(new BootDisk.Layout(uki, _images.Rootfs, null, SystemdBoot: true, keys, keys.Directory, 32L << 20), enrolling);
        using var vars = VarsCopy.Of(UefiFirmware.BlankVars);

        using (var first = Boot("enrol-keys", enrolling, vars.Path))
        {
            // The firmware resets once the keys are in; -no-reboot turns that into QEMU's exit.
            first.ExpectExit(FirmwareTimeout);
            Assert.DoesNotContain(Pid1Started, first.Session.Log, StringComparison.Ordinal);
        }
        using (var second = Boot("enrolled-own-image", enrolling, vars.Path))
        {
            second.Expect(@"firmware: UEFI, secure boot on", FirmwareTimeout);
            second.Expect("INITOS-OS-UP");
        }
        using (var third = Boot("enrolled-debian-signed", Disk("debian-signed", Snakeoil), vars.Path))
        {
            third.Expect(Refused, FirmwareTimeout);
            Assert.DoesNotContain(Pid1Started, third.Session.Log, StringComparison.Ordinal);
        }
    }

    private static void Flip(byte[] bytes, string section, int offset)
    {
        var found = PeImage.Parse(bytes, "uki").Find(section)!;
        bytes[found.PointerToRawData + offset] ^= 0xFF;
    }

    private static void Replace(byte[] bytes, string section, string from, string to)
    {
        var found = PeImage.Parse(bytes, "uki").Find(section)!;
        var text = Encoding.ASCII.GetString(bytes, (int)found.PointerToRawData, (int)found.VirtualSize);
        Assert.Contains(from, text, StringComparison.Ordinal);
        Encoding.ASCII.GetBytes(text.Replace(from, to, StringComparison.Ordinal)).CopyTo(bytes, found.PointerToRawData);
    }
}

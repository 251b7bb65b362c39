using InitOs.Admin;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Disk;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A TPM-sealed key for the data volume (LUKS2, the sidecar's host keys on it) on a machine
/// that boots signed UKIs under OVMF with Secure Boot and a swtpm kept across boots:
/// <list type="number">
/// <item>UKI 1.0, nothing enrolled: the TPM has no key for it, the passphrase opens the
/// volume; over ssh the admin seals a key to this boot's PCR 7 and 11, another to the PCR 11
/// UKI 2.0 will leave (predicted by the build, before 2.0 exists on the machine), and adds a
/// recovery key, printed once.</item>
/// <item>UKI 2.0 (the same keys, another release): opened by the TPM, no prompt.</item>
/// <item>UKI 3.0, signed by the same key but never enrolled: the TPM unseals nothing, the
/// passphrase prompt comes, and the recovery key opens it.</item>
/// </list>
/// That an unsigned or tampered UKI never runs is SignedBootTests' (the firmware refuses it).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class TpmCryptBootTests
{
    private const string Passphrase = "correct horse battery staple";
    private static readonly TimeSpan FirmwareTimeout = TimeSpan.FromSeconds(240);

    private readonly BootImages _images;

    public TpmCryptBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_key_sealed_to_a_ukis_predicted_pcr11_opens_the_data_volume_under_it_and_an_enrolled_one_does_not()
    {
        var admin = _images.Scratch("tpm-admin");
        if (!File.Exists(admin))
        {
            SidecarSshBootTests.NewKey(admin);
        }
        var (data, uuid) = DataVolume();
        var initramfs = _images.InitramfsWith("tpm-crypt", GuestConfig.Pid1($$"""
            [[crypt]]
            device = "UUID={{uuid}}"
            name = "data"
            keys = ["tpm2", "passphrase"]

            [data]
            device = "/dev/mapper/data"

            """ + GuestConfig.DhcpAndSidecar(admin + ".pub"),
            modules: "load = [\"virtio_pci\", \"virtio_blk\", \"virtio_net\", \"ext4\"]\ninclude = []"));
        var keys = KeySet.Snakeoil(_images.Scratch("keys-snakeoil"));
        var (disk1, _) = Disk(initramfs, "1.0", keys);
        var (disk2, pcr11Of2) = Disk(initramfs, "2.0", keys);
        var (disk3, _) = Disk(initramfs, "3.0", keys);
        using var tpmState = new TempDirectory("initos-tpm-machine-");
        using var known = new TempDirectory("initos-tpm-known-");
        var client = new AdminClient(admin, new KnownHosts(known.File("known_hosts")), TimeSpan.FromSeconds(60));

        string recoveryKey;
        using (var machine = new Machine("tpm-crypt-1", disk1, data, tpmState.Path))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: data has no TPM-sealed key \(`initos admin disk enroll-tpm data` seals one\)", FirmwareTimeout);
            vm.ExpectPrompt("Passphrase for data");
            vm.Session.Send(Passphrase + "\n");
            vm.Expect(@"crypt: data \(/dev/vdb\) opened by passphrase \(key slot 0\)");
            var now = AdminSessions.RunWhenUp(client, target, "disk enroll-tpm data");
            Assert.True(now.Succeeded, now.ToString());
            Assert.Matches(@"enrolled data: token 0 \(key slot 1, sealed for release [^:]+: PCR 7 = [0-9a-f]{64}, PCR 11 = [0-9a-f]{64}\)", now.Output);
            var next = client.Run(target, $"disk enroll-tpm data --pcr11 {pcr11Of2} --release 2.0");
            Assert.True(next.Succeeded, next.ToString());
            Assert.Contains($"enrolled data: token 1 (key slot 2, sealed for release 2.0: PCR 7 = ", next.Output, StringComparison.Ordinal);
            Assert.Contains($", PCR 11 = {pcr11Of2})", next.Output, StringComparison.Ordinal);
            var recovery = client.Run(target, "disk recovery-key data");
            Assert.True(recovery.Succeeded, recovery.ToString());
            recoveryKey = System.Text.RegularExpressions.Regex.Match(recovery.Output, @"(?m)^  ([0-9a-f]{4}(-[0-9a-f]{4}){7})$").Groups[1].Value;
            Assert.NotEmpty(recoveryKey);
            client.Run(target, "poweroff");
            vm.ExpectExit();
        }

        using (var machine = new Machine("tpm-crypt-2", disk2, data, tpmState.Path))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: data: the TPM unsealed its key in \d+ ms", FirmwareTimeout);
            vm.Expect(@"crypt: data \(/dev/vdb\) opened by tpm \(sealed for release 2.0, key slot 2\) as /dev/mapper/data");
            var status = AdminSessions.RunWhenUp(client, target, "status");
            Assert.Contains("  data on /dev/vdb: LUKS2, opened by tpm (sealed for release 2.0, key slot 2), /dev/mapper/data", status.Output, StringComparison.Ordinal);
            client.Run(target, "poweroff");
            vm.ExpectExit();
            Assert.DoesNotContain("Passphrase for data", vm.Session.Log, StringComparison.Ordinal);
        }

        using (var machine = new Machine("tpm-crypt-3", disk3, data, tpmState.Path))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: the TPM unsealed none of data's 2 key\(s\)", FirmwareTimeout);
            vm.ExpectPrompt("Passphrase for data");
            vm.Session.Send(recoveryKey + "\n");
            vm.Expect(@"crypt: data \(/dev/vdb\) opened by recovery key \(key slot 3\) as /dev/mapper/data");
            var status = AdminSessions.RunWhenUp(client, target, "status");
            Assert.Contains("opened by recovery key (key slot 3)", status.Output, StringComparison.Ordinal);
            client.Run(target, "poweroff");
            vm.ExpectExit();
        }
    }

    /// <summary>An ext4 data volume inside LUKS2 (passphrase in key slot 0), fresh for the run.</summary>
    private (string Image, string Uuid) DataVolume()
    {
        var plain = _images.Scratch("tpm-data-plain.img");
        File.Delete(plain);
        Tool.Run("truncate", "-s", "32M", plain);
        Tool.Run("mkfs.ext4", "-q", "-L", "initos-data", plain);
        var data = _images.Scratch("tpm-data.img");
        File.Delete(data);
        var uuid = LuksImage.Encrypt(plain, data, Passphrase);
        File.Delete(plain);
        return (data, uuid);
    }

    /// <summary>A disk whose ESP boots UKI <paramref name="release"/> (the same initramfs; its os-release differs, so PCR 11 does); and that PCR 11, as the build predicts it.</summary>
    private (string Disk, string Pcr11) Disk(string initramfs, string release, KeySet keys)
    {
        var uki = _images.Scratch($"tpm-uki-{release}.efi");
        var built = UkiBuilder.Build(new UkiSpec
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Cmdline = "console=ttyS0 panic=-1",
            OsRelease = InitOs.Init.BuildVersion.OsReleaseFor(release),
        }, uki, keys);
        var disk = _images.Scratch($"tpm-disk-{release}.img");
        File.Delete(disk);
        BootDisk.Write(new BootDisk.Layout(uki, null, null, false, null, null, 64L << 20), disk);
        return (disk, built.Pcr11);
    }

    /// <summary>One boot: OVMF with Secure Boot (a fresh copy of the snakeoil vars, so PCR 7 is the same each boot), the machine's swtpm, ssh forwarded.</summary>
    private sealed class Machine : IDisposable
    {
        private readonly VarsCopy _vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        private readonly SoftwareTpm _tpm;

        public Machine(string name, string disk, string data, string tpmState)
        {
            _tpm = new SoftwareTpm(tpmState);
            Target = new AdminTarget("127.0.0.1", SidecarSshBootTests.FreePort());
            Vm = new VmBoot(name, new QemuOptions
            {
                Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, _vars.Path, SecureBoot: true),
                Disks = [disk, data],
                TpmSocket = _tpm.Socket,
                Network = true,
                HostForwards = [(Target.Port, 22)],
            });
        }

        public VmBoot Vm { get; }

        public AdminTarget Target { get; }

        public void Dispose()
        {
            Vm.Dispose();
            _tpm.Dispose();
            _vars.Dispose();
        }
    }
}

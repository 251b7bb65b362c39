using InitOs.Admin;
using InitOs.Efi.Pe;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// TPM-sealed keys for the data volume (LUKS2, the sidecar's host keys on it) on a machine that
/// boots signed UKIs through systemd-boot under OVMF with Secure Boot, with a swtpm kept across
/// boots:
/// <list type="number">
/// <item>1.0, nothing enrolled: the TPM has no key, the passphrase opens the volume. Over ssh
/// the admin seals a key to this boot's PCR 7 and 11, another by hand to a PCR 11 given as
/// hex (release 0.9), adds a recovery key (printed once), and applies the signed bundle of
/// 2.0: before 2.0 becomes a boot entry the sidecar seals a key to the PCR 11 2.0 will
/// leave.</item>
/// <item>2.0 (its trial boot): opened by the TPM, no prompt; the judge blesses 2.0 and the
/// keys of 1.0 and 0.9 are removed.</item>
/// <item>3.0, signed by the same key but never enrolled: the TPM unseals nothing, the prompt
/// comes, and the recovery key opens the volume.</item>
/// </list>
/// One admin client (one known-hosts file) across the three boots: the sidecar's host key, kept
/// on the encrypted data volume, is the same each time, or ssh would refuse it. That an unsigned
/// or tampered UKI never runs is SignedBootTests' (the firmware refuses it).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class TpmCryptBootTests
{
    private const string Passphrase = "correct horse battery staple";

    private readonly BootImages _images;
    private readonly UpgradeImages _upgrades;

    public TpmCryptBootTests(BootImages images)
    {
        _images = images;
        _upgrades = new UpgradeImages(images);
    }

    [Fact]
    public void An_upgrade_seals_the_disk_key_to_the_next_ukis_pcr11_so_it_opens_without_a_passphrase_and_an_unenrolled_uki_asks()
    {
        var (data, uuid) = DataVolume();
        var uki1 = Uki("1.0", uuid);
        var uki2 = Uki("2.0", uuid);
        var pcr11Of2 = InitOs.Efi.Pcr.Pcr11.PredictHex(PeImage.Load(uki2));
        var disk = _upgrades.Disk("tpm-upgrade.img", uki1);
        var disk3 = _upgrades.Disk("tpm-unenrolled.img", Uki("3.0", uuid));
        using var tpmState = new TempDirectory("initos-tpm-machine-");
        var client = _upgrades.Client();
        var fakePcr11 = new string('5', 64);
        int port = SidecarSshBootTests.FreePort();   // one address for the three boots: the known-hosts pin is checked each time

        string recoveryKey;
        using (var machine = new Machine("tpm-crypt-1", disk, data, tpmState.Path, port))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: data has no TPM-sealed key \(`initos admin disk enroll-tpm data` seals one\)", UpgradeImages.FirmwareTimeout);
            vm.ExpectPrompt("Passphrase for data");
            vm.Session.Send(Passphrase + "\n");
            vm.Expect(@"crypt: data \(/dev/vdb\) opened by passphrase \(key slot 0\)");
            var now = AdminSessions.RunWhenUp(client, target, "disk enroll-tpm data");
            Assert.True(now.Succeeded, now.ToString());
            Assert.Matches(@"enrolled data: token 0 \(key slot 1, sealed for release 1\.0: PCR 7 = [0-9a-f]{64}, PCR 11 = [0-9a-f]{64}\)", now.Output);
            var byHand = client.Run(target, $"disk enroll-tpm data --pcr11 {fakePcr11} --release 0.9");
            Assert.True(byHand.Succeeded, byHand.ToString());
            Assert.Contains($", PCR 11 = {fakePcr11})", byHand.Output, StringComparison.Ordinal);
            var recovery = client.Run(target, "disk recovery-key data");
            Assert.True(recovery.Succeeded, recovery.ToString());
            recoveryKey = System.Text.RegularExpressions.Regex.Match(recovery.Output, @"(?m)^  ([0-9a-f]{4}(-[0-9a-f]{4}){7})$").Groups[1].Value;
            Assert.NotEmpty(recoveryKey);
            var applied = UpgradeImages.Apply(client, target, "upgrade apply", _upgrades.Bundle("2.0", uki2));
            Assert.True(applied.Succeeded, applied.ToString());
            Assert.Contains($"tpm: data's key sealed for 2.0: token 3 (key slot 4, sealed for release 2.0: PCR 7 = ", applied.Output + applied.Error, StringComparison.Ordinal);
            Assert.Contains($", PCR 11 = {pcr11Of2})", applied.Output + applied.Error, StringComparison.Ordinal);
            client.Run(target, "poweroff");
            vm.ExpectExit();
        }

        using (var machine = new Machine("tpm-crypt-2", disk, data, tpmState.Path, port))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: data: the TPM unsealed its key in \d+ ms", UpgradeImages.FirmwareTimeout);
            vm.Expect(@"crypt: data \(/dev/vdb\) opened by tpm \(sealed for release 2\.0, key slot 4\) as /dev/mapper/data");
            vm.Expect(@"verdict on 2\.0: good");
            vm.Expect(@"tpm: data: removed the key of release 1\.0 \(token 0, key slot 1\); 2\.0 is blessed");
            vm.Expect(@"tpm: data: removed the key of release 0\.9 \(token 1, key slot 2\); 2\.0 is blessed");
            var keys = AdminSessions.RunWhenUp(client, target, "disk keys data");
            Assert.True(keys.Succeeded, keys.ToString());
            Assert.Contains("  tpm: token 3 (key slot 4, sealed for release 2.0: ", keys.Output, StringComparison.Ordinal);
            Assert.Contains("  recovery key: key slot 3", keys.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("release 1.0", keys.Output, StringComparison.Ordinal);
            var status = client.Run(target, "status");
            Assert.Contains("  data on /dev/vdb: LUKS2, opened by tpm (sealed for release 2.0, key slot 4), /dev/mapper/data", status.Output, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  /run/initos/data on /dev/(dm-0|mapper/data): encrypted \(LUKS2 data\)$", status.Output);
            client.Run(target, "poweroff");
            vm.ExpectExit();
            Assert.DoesNotContain("Passphrase for data", vm.Session.Log, StringComparison.Ordinal);
        }

        using (var machine = new Machine("tpm-crypt-3", disk3, data, tpmState.Path, port))
        {
            var (vm, target) = (machine.Vm, machine.Target);
            vm.Expect(@"crypt: the TPM unsealed none of data's 1 key\(s\)", UpgradeImages.FirmwareTimeout);
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

    /// <summary>A signed UKI of <paramref name="release"/>: upgrades on (a 3 s settle), the data volume on LUKS2 opened by the TPM or the console.</summary>
    private string Uki(string release, string uuid)
    {
        var toml = GuestConfig.Pid1(
            GuestConfig.DhcpAndSidecar(_upgrades.SshKey("admin") + ".pub") + "\n" + _upgrades.UpgradeTable(release, settleSeconds: 3, deadlineSeconds: 60) + $$"""

            [[crypt]]
            device = "UUID={{uuid}}"
            name = "data"
            keys = ["tpm2", "passphrase"]

            [data]
            device = "/dev/mapper/data"
            """,
            modules: "load = [\"virtio_pci\", \"virtio_blk\", \"virtio_net\", \"ext4\"]\ninclude = []");
        return _upgrades.SignedUki(_images.Scratch($"tpm-{release}-{uuid[..8]}.efi"), release, toml, "console=ttyS0 panic=-1");
    }

    /// <summary>One boot: OVMF with Secure Boot (a fresh copy of the snakeoil vars, so PCR 7 is the same each boot), the machine's swtpm, ssh forwarded.</summary>
    private sealed class Machine : IDisposable
    {
        private readonly VarsCopy _vars = VarsCopy.Of(UefiFirmware.SnakeoilVars);
        private readonly SoftwareTpm _tpm;

        public Machine(string name, string disk, string data, string tpmState, int port)
        {
            _tpm = new SoftwareTpm(tpmState);
            Target = new AdminTarget("127.0.0.1", port);
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

using System.Security.Cryptography;
using System.Text;
using InitOs.Efi.Pe;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Kernel;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Tpm;
using InitOs.Init.Crypt;
using InitOs.Init.Tpm;
using InitOs.TestKit;

namespace InitOs.UnitTests.Tpm;

/// <summary>
/// `initos build enroll-tpm` against a LUKS2 image and swtpm: the token it writes unseals once the
/// TPM's PCR 7 holds the value given and PCR 11 holds what systemd-stub's measurements of the
/// UKI make (the test extends them as firmware and stub would), and its key opens its key slot.
/// </summary>
public sealed class BuildEnrolmentTests : IDisposable
{
    private const string Passphrase = "build time";
    private readonly TempDirectory _dir = new("initos-enrol-test-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_key_enrolled_at_build_time_unseals_on_the_machine_booting_that_uki_and_opens_the_volume()
    {
        var plain = _dir.File("plain.img");
        Tool.Run("truncate", "-s", "8M", plain);
        Tool.Run("mkfs.ext4", "-q", plain);
        var volume = _dir.File("volume.img");
        LuksImage.Encrypt(plain, volume, Passphrase);
        File.WriteAllText(_dir.File("passphrase"), Passphrase);
        var uki = Uki();
        var secureBootEvent = SHA256.HashData("the firmware's Secure Boot measurements"u8);
        var pcr7 = SHA256.HashData([.. new byte[32], .. secureBootEvent]);
        using var swtpm = new SoftwareTpm(_dir.File("tpm"), server: true);

        var token = BuildEnrolment.Enrol(new BuildEnrolment.Spec(volume, _dir.File("passphrase"), swtpm.DataSocket!, pcr7, uki, "1.0"));

        Assert.Equal(1, token.KeySlot);
        using var tpm = new Tpm2(new TpmSocket(swtpm.DataSocket!));
        var tokens = TpmToken.FromMetadata(Tool.Run("cryptsetup", "luksDump", "--dump-json-metadata", volume), _ => { });
        Assert.Null(TpmKeys.Unseal(tpm, tokens, _ => { }));
        tpm.PcrExtend(7, secureBootEvent);
        foreach (var digest in StubMeasurements(uki))
        {
            tpm.PcrExtend(11, digest);
        }
        var (unsealed, key) = TpmKeys.Unseal(tpm, tokens, _ => { }) ?? throw new InvalidOperationException("the TPM did not unseal the enrolled key");
        Assert.Equal(token.ToString(), unsealed.ToString());
        File.WriteAllBytes(_dir.File("key"), key);
        Tool.Run("cryptsetup", "open", "--test-passphrase", "--key-slot", "1", "--key-file", _dir.File("key"), volume);
    }

    /// <summary>What systemd-stub extends PCR 11 with for this UKI: each measured section's name (with its NUL), then its bytes as loaded.</summary>
    private static IEnumerable<byte[]> StubMeasurements(string uki)
    {
        var image = PeImage.Load(uki);
        foreach (var name in InitOs.Efi.Pcr.Pcr11.MeasuredSections)
        {
            if (image.Find(name) is not { VirtualSize: > 0 } section)
            {
                continue;
            }
            yield return SHA256.HashData(Encoding.ASCII.GetBytes(name + "\0"));
            var loaded = new byte[section.VirtualSize];
            var data = image.RawData(section);
            data[..Math.Min(data.Length, loaded.Length)].CopyTo(loaded);
            yield return SHA256.HashData(loaded);
        }
    }

    private string Uki()
    {
        RepoPaths.Require(UkiSpec.DefaultStub, "make prereqs (systemd-boot-efi)");
        var initrd = _dir.File("initrd.img");
        File.WriteAllBytes(initrd, new byte[3000]);
        var uki = _dir.File("uki.efi");
        File.WriteAllBytes(uki, UkiWriter.Build(new UkiSpec
        {
            Kernel = KernelFolder.Open(RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel")).Vmlinuz,
            Initrd = initrd,
            Cmdline = "console=ttyS0",
            OsRelease = "NAME=InitOS\nID=initos\n",
        }));
        return uki;
    }
}

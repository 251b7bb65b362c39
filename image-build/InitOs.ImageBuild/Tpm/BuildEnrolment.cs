using InitOs.Init.Crypt;
using InitOs.Init.Tpm;

namespace InitOs.ImageBuild.Tpm;

/// <summary>
/// Enrolment at build time for a known machine: a LUKS2 image (or device) gets a TPM-sealed key
/// for a UKI before the machine ever boots it, sealed by that machine's TPM (reached here through
/// a TPM simulator's command socket: a QEMU machine's swtpm state, or a lab's TPM bridge) to the
/// machine's PCR 7 (as its boot log printed it: `tpm: PCR 7 (sha256) = …`) and the UKI's PCR 11
/// (computed from the file). The existing passphrase authorizes the new key slot.
/// </summary>
public static class BuildEnrolment
{
    public sealed record Spec(string Volume, string PassphraseFile, string TpmSocket, byte[] Pcr7, string Uki, string Release);

    public static TpmToken Enrol(Spec spec)
    {
        if (spec.Pcr7.Length != 32)
        {
            throw new ArgumentException($"--pcr7 takes a SHA-256 value (64 hex digits), not {spec.Pcr7.Length} bytes");
        }
        var pcr11 = UkiMeasurement.PredictPcr11(spec.Uki);
        var policy = new PcrPolicy(TpmKeys.Pcrs, new Dictionary<int, byte[]> { [7] = spec.Pcr7, [11] = pcr11 });
        using var scratch = new TempScratch();
        var cryptsetup = Cryptsetup.Direct(ExternalCryptsetup(), scratch.Path);
        using var tpm = new Tpm2(new TpmSocket(spec.TpmSocket));
        var passphrase = File.ReadAllBytes(spec.PassphraseFile);
        try
        {
            return TpmKeys.Enrol(cryptsetup, spec.Volume, tpm, policy, spec.Release, passphrase, authorizingIsVolumeKey: false);
        }
        finally
        {
            Array.Clear(passphrase);
        }
    }

    private static string ExternalCryptsetup() =>
        File.Exists(Cryptsetup.Binary) ? Cryptsetup.Binary : throw new FileNotFoundException($"{Cryptsetup.Binary} is missing: install cryptsetup-bin (make prereqs does)");

    /// <summary>cryptsetup's key files and logs, in a directory only this user may enter, gone afterwards.</summary>
    private sealed class TempScratch : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("initos-enrol-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

using System.CommandLine;
using InitOs.ImageBuild.Tpm;

namespace InitOs.Cli;

/// <summary>`initos build enroll-tpm`: a TPM-sealed key for a known machine's LUKS2 volume, before it boots a UKI.</summary>
internal static class EnrolCommand
{
    public static Command Create()
    {
        var volume = Cli.Option<string>("--volume", "the LUKS2 image or device");
        var passphrase = Cli.Option<string>("--passphrase-file", "a file holding a passphrase the volume takes now (authorizes the new key slot)");
        var tpm = Cli.Option<string>("--tpm-socket", "the machine's TPM: a TPM simulator's command socket (swtpm socket --server type=unixio,path=…)");
        var pcr7 = Cli.Option<string>("--pcr7", "the machine's PCR 7 (sha256), as its boot log printed it (tpm: PCR 7 (sha256) = …)");
        var uki = Cli.Option<string>("--uki", "the UKI the key is for: its PCR 11 is computed from it");
        var release = Cli.Option<string>("--release", "the release name the token records", () => "build");
        var command = new Command("enroll-tpm", "seal a new key of a LUKS2 volume to a known machine's PCR 7 and a UKI's PCR 11 (docs/storage.md)")
        {
            volume, passphrase, tpm, pcr7, uki, release,
        };
        command.SetAction(r =>
        {
            var hex = r.GetValue(pcr7) ?? throw new ArgumentException("--pcr7 is required");
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                throw new ArgumentException($"--pcr7: 64 hex digits (a SHA-256 value), not '{hex}'");
            }
            var spec = new BuildEnrolment.Spec(
                Required(r.GetValue(volume), "--volume"), Required(r.GetValue(passphrase), "--passphrase-file"), Required(r.GetValue(tpm), "--tpm-socket"),
                Convert.FromHexString(hex), Required(r.GetValue(uki), "--uki"), r.GetValue(release)!);
            var token = BuildEnrolment.Enrol(spec);
            Console.WriteLine($"enrolled {spec.Volume}: {token}");
            return 0;
        });
        return command;
    }

    private static string Required(string? value, string option) => value ?? throw new ArgumentException($"{option} is required");
}

using InitOs.Init;
using InitOs.Init.Config;
using InitOs.Init.Crypt;
using InitOs.Init.Tpm;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `initos admin disk …`: the keys of the LUKS2 volumes this boot opened. New keys are added
/// with the open mapping's volume key (no passphrase is typed over ssh), each in a key slot of
/// its own, and the header changes through cryptsetup only.
/// </summary>
public static class DiskCommand
{
    public const string Usage = """
          disk keys NAME                (viewer) the volume's TPM-sealed keys and recovery key slots
          disk enroll-tpm NAME          (admin) seal a new key to this boot's PCR 7 and PCR 11 (this UKI, this Secure Boot state): later boots of it open NAME without a passphrase
                                          (--pcr11 HEX --release V: to the PCR 11 another UKI leaves, as `initos build uki` printed it, before that UKI is installed)
          disk recovery-key NAME        (admin) add a recovery key to NAME; it is printed once, here, and kept nowhere
        """;

    public static int Run(string[] words, string configPath = InitosConfig.DefaultPath) => words switch
    {
        ["keys", var name] => Keys(Volume(name)),
        ["enroll-tpm", var name] => EnrolTpm(Volume(name), ConfigLoader.Load(configPath), null, null),
        ["enroll-tpm", var name, "--pcr11", var pcr11, "--release", var release] => EnrolTpm(Volume(name), ConfigLoader.Load(configPath), Pcr11(pcr11), release),
        ["recovery-key", var name] => AddRecoveryKey(Volume(name)),
        _ => Refuse($"disk {string.Join(' ', words)}: expected keys NAME, enroll-tpm NAME or recovery-key NAME"),
    };

    private static (string Name, string Device) Volume(string name)
    {
        var opened = CryptStatus.Read();
        return opened.FirstOrDefault(v => v.Name == name) is { Name: not null } volume
            ? (volume.Name, volume.Device)
            : throw new InvalidOperationException($"no LUKS2 volume named '{name}' was opened this boot (opened: {(opened.Count == 0 ? "none" : string.Join(", ", opened.Select(v => v.Name)))})");
    }

    private static int Keys((string Name, string Device) volume)
    {
        var metadata = Cryptsetup.Direct().Metadata(volume.Device);
        var tokens = TpmToken.FromMetadata(metadata, warning => Console.WriteLine($"warning: {warning}"));
        Console.WriteLine($"{volume.Name} on {volume.Device}:");
        foreach (var token in tokens)
        {
            Console.WriteLine($"  tpm: {token}");
        }
        foreach (var slot in RecoveryKey.Slots(metadata).Order())
        {
            Console.WriteLine($"  recovery key: key slot {slot}");
        }
        if (tokens.Count == 0)
        {
            Console.WriteLine("  no TPM-sealed key");
        }
        return 0;
    }

    private static byte[] Pcr11(string hex) =>
        hex.Length == 64 && hex.All(char.IsAsciiHexDigit)
            ? Convert.FromHexString(hex)
            : throw new InvalidOperationException($"--pcr11 takes a SHA-256 value: 64 hex digits, not '{hex}'");

    /// <summary>PCR 7 as it is now (the Secure Boot state stays across an upgrade); PCR 11 as it is now, or as another UKI leaves it.</summary>
    private static int EnrolTpm((string Name, string Device) volume, InitosConfig settings, byte[]? pcr11, string? release)
    {
        var cryptsetup = Cryptsetup.Direct();
        using var tpm = new Tpm2(TpmDevice.Open());
        var values = new Dictionary<int, byte[]>(tpm.PcrRead(TpmKeys.Pcrs));
        if (pcr11 is not null)
        {
            values[11] = pcr11;
        }
        var policy = new PcrPolicy(TpmKeys.Pcrs, values);
        release ??= settings.Upgrade.Version ?? BuildVersion.Text;
        var volumeKey = cryptsetup.VolumeKey(volume.Name);
        try
        {
            var token = TpmKeys.Enrol(cryptsetup, volume.Device, tpm, policy, release, volumeKey, authorizingIsVolumeKey: true);
            Console.WriteLine($"enrolled {volume.Name}: {token}");
            return 0;
        }
        finally
        {
            Array.Clear(volumeKey);
        }
    }

    private static int AddRecoveryKey((string Name, string Device) volume)
    {
        var cryptsetup = Cryptsetup.Direct();
        var volumeKey = cryptsetup.VolumeKey(volume.Name);
        try
        {
            var key = RecoveryKey.Enrol(cryptsetup, volume.Device, volumeKey, authorizingIsVolumeKey: true);
            Console.WriteLine($"recovery key for {volume.Name} (shown this once; it opens {volume.Name} at the passphrase prompt):");
            Console.WriteLine($"  {key}");
            return 0;
        }
        finally
        {
            Array.Clear(volumeKey);
        }
    }

    private static int Refuse(string message)
    {
        Console.Error.WriteLine($"initos admin: {message}");
        return 2;
    }
}

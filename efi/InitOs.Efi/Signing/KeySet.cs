using InitOs.Tools;

namespace InitOs.Efi.Signing;

/// <summary>
/// A Secure Boot key set in one directory (mode 0700): PK, KEK and db as X.509 certificates
/// and private keys (0600), their EFI signature lists (.esl) and signed enrolment updates
/// (.auth, what systemd-boot's secure-boot-enroll and KeyTool take), and the owner GUID.
/// </summary>
public sealed record KeySet(string Directory)
{
    public static readonly IReadOnlyList<string> Names = ["PK", "KEK", "db"];

    public string Key(string name) => Path.Combine(Directory, name + ".key");
    public string Certificate(string name) => Path.Combine(Directory, name + ".crt");
    public string SignatureList(string name) => Path.Combine(Directory, name + ".esl");
    public string Update(string name) => Path.Combine(Directory, name + ".auth");
    public string OwnerGuidFile => Path.Combine(Directory, "owner.guid");

    /// <summary>What signs boot images: db.</summary>
    public string SigningKey => Key("db");
    public string SigningCertificate => Certificate("db");

    /// <summary>Debian's OVMF test key: OVMF_VARS_4M.snakeoil.fd has it in db. For tests and the demo only.</summary>
    public const string SnakeoilKey = "/usr/share/ovmf/PkKek-1-snakeoil.key", SnakeoilCertificate = "/usr/share/ovmf/PkKek-1-snakeoil.pem";

    /// <summary>The test key decrypted (pass phrase "snakeoil") into a 0700 directory as db.key (0600), with its certificate.</summary>
    public static KeySet Snakeoil(string directory)
    {
        var set = new KeySet(Path.GetFullPath(directory));
        if (File.Exists(set.SigningKey) && File.Exists(set.SigningCertificate))
        {
            return set;
        }
        System.IO.Directory.CreateDirectory(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        ExternalTool.Run("openssl", ["rsa", "-in", SnakeoilKey, "-passin", "pass:snakeoil", "-out", set.SigningKey]);
        File.SetUnixFileMode(set.SigningKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Copy(SnakeoilCertificate, set.SigningCertificate, overwrite: true);
        return set;
    }

    public static KeySet Open(string directory)
    {
        var set = new KeySet(Path.GetFullPath(directory));
        var missing = new[] { set.SigningKey, set.SigningCertificate }.Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
        {
            throw new KeyException($"{set.Directory} is not a key set: missing {string.Join(", ", missing.Select(Path.GetFileName))} (initos keys generate makes one)");
        }
        return set;
    }
}

/// <summary>A key or signing operation that could not be done; the message says which file and why.</summary>
public sealed class KeyException(string message) : Exception(message);

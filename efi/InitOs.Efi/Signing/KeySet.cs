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

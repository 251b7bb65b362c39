using InitOs.Tools;

namespace InitOs.Efi.Signing;

/// <summary>
/// `initos keys generate`: PK, KEK and db with openssl, their signature lists and signed
/// updates with efitools (PK self-signed, KEK signed by PK, db by KEK). The directory is made
/// 0700 before any key exists in it, and keys are 0600, so no private key is ever readable by
/// others, not even for a moment; no key material is ever printed.
/// </summary>
public static class KeyGenerator
{
    public static KeySet Generate(string directory, string commonName, int days = 3650)
    {
        var set = new KeySet(Path.GetFullPath(directory));
        if (System.IO.Directory.Exists(set.Directory) && System.IO.Directory.EnumerateFileSystemEntries(set.Directory).Any())
        {
            throw new KeyException($"{set.Directory} is not empty: refusing to overwrite keys");
        }
        System.IO.Directory.CreateDirectory(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(set.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var guid = Guid.NewGuid().ToString();
        File.WriteAllText(set.OwnerGuidFile, guid + "\n");
        foreach (var name in KeySet.Names)
        {
            ExternalTool.Run("openssl", ["req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-subj", $"/CN={commonName} {name}/", "-keyout", set.Key(name), "-out", set.Certificate(name)]);
            File.SetUnixFileMode(set.Key(name), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            ExternalTool.Run("cert-to-efi-sig-list", ["-g", guid, set.Certificate(name), set.SignatureList(name)]);
        }
        // Who signs whose update: PK itself, KEK by PK, db by KEK.
        foreach (var (name, signer) in new[] { ("PK", "PK"), ("KEK", "PK"), ("db", "KEK") })
        {
            ExternalTool.Run("sign-efi-sig-list", ["-g", guid, "-k", set.Key(signer), "-c", set.Certificate(signer), name, set.SignatureList(name), set.Update(name)]);
        }
        return set;
    }
}

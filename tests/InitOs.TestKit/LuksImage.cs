namespace InitOs.TestKit;

/// <summary>
/// LUKS2 fixtures made without device-mapper on the test host (its kernel has none loaded):
/// a filesystem image is encrypted in place by cryptsetup's offline encryption, its header put
/// in front. PBKDF2 with few iterations keeps the open under TCG quick; real volumes keep
/// cryptsetup's argon2id.
/// </summary>
public static class LuksImage
{
    private const int HeaderMiB = 16;

    /// <summary>Writes <paramref name="output"/>: <paramref name="filesystemImage"/> inside LUKS2, opened by <paramref name="passphrase"/>; returns the LUKS UUID.</summary>
    public static string Encrypt(string filesystemImage, string output, string passphrase)
    {
        File.Copy(filesystemImage, output, overwrite: true);
        using (var file = new FileStream(output, FileMode.Open, FileAccess.Write))
        {
            // Room at the end: offline encryption moves the data up by half of it and puts the header in front.
            file.SetLength(file.Length + ((long)HeaderMiB << 20));
        }
        using var keys = new TempDirectory("initos-luks-key-");
        var keyFile = keys.File("key");
        File.WriteAllText(keyFile, passphrase);
        Tool.Run("cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", $"{HeaderMiB}M",
            "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", keyFile, "--batch-mode", output);
        return Tool.Run("cryptsetup", "luksUUID", output).Trim();
    }

    /// <summary>Another key slot (a recovery key, say) opening the same volume.</summary>
    public static void AddKey(string image, string passphrase, string newKey)
    {
        using var keys = new TempDirectory("initos-luks-key-");
        File.WriteAllText(keys.File("old"), passphrase);
        File.WriteAllText(keys.File("new"), newKey);
        Tool.Run("cryptsetup", "luksAddKey", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", keys.File("old"), "--batch-mode", image, keys.File("new"));
    }
}

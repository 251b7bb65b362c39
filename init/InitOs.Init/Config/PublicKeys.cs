namespace InitOs.Init.Config;

/// <summary>What may go into authorized_keys: one public key line, "TYPE BASE64 [comment]".</summary>
public static class PublicKeys
{
    public static bool IsPublicKey(string key)
    {
        var words = key.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // A newline would start a second authorized_keys line, one without the forced command.
        return words.Length >= 2 && (words[0].StartsWith("ssh-", StringComparison.Ordinal) || words[0].StartsWith("ecdsa-", StringComparison.Ordinal))
            && !key.Contains('\n', StringComparison.Ordinal) && !key.Contains('\r', StringComparison.Ordinal) && IsBase64(words[1]);
    }

    /// <summary>The fingerprint OpenSSH and dropbear print: "SHA256:" and the base64 of the key blob's SHA-256, unpadded.</summary>
    public static string Fingerprint(string key) =>
        "SHA256:" + Convert.ToBase64String(Sys.Sha256.Hash(Convert.FromBase64String(key.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]))).TrimEnd('=');

    /// <summary>The type name a key blob starts with (uint32 length, then the name), or null when the base64 or the blob is damaged.</summary>
    public static string? BlobType(string base64)
    {
        var blob = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, blob, out int length) || length < 4)
        {
            return null;
        }
        uint nameLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(blob);
        return nameLength <= (uint)(length - 4) ? System.Text.Encoding.ASCII.GetString(blob, 4, (int)nameLength) : null;
    }

    public static string Shorten(string key) => key.Length > 40 ? key[..40] + "…" : key;

    private static bool IsBase64(string text) => text.Length % 4 == 0 && Convert.TryFromBase64String(text, new byte[text.Length], out _);
}

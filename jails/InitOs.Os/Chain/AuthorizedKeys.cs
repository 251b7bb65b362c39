using InitOs.Init.Config;

namespace InitOs.Os.Chain;

/// <summary>
/// An authorized_keys file checked before sshd sees it: every line that is not blank or a
/// comment holds a known key type and a key blob of that type; a typo stops the chain at
/// FILE:LINE instead of leaving a door that no key opens.
/// </summary>
public static class AuthorizedKeys
{
    private static readonly HashSet<string> Types = new(StringComparer.Ordinal)
    {
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    };

    /// <summary>The number of keys; throws naming FILE:LINE for a line that is not a key.</summary>
    public static int Check(string file, string text)
    {
        int keys = 0;
        foreach (var (number, line) in ChainFiles.Lines(text))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int at = Array.FindIndex(words, Types.Contains);
            if (at < 0 || at + 1 >= words.Length)
            {
                throw new ChainException($"{file}:{number}: no public key (expected a type such as ssh-ed25519, then its base64 blob)");
            }
            if (!PublicKeys.IsPublicKey(string.Join(' ', words[at..])) || PublicKeys.BlobType(words[at + 1]) != words[at])
            {
                throw new ChainException($"{file}:{number}: the {words[at]} key's base64 blob is damaged or of another type");
            }
            keys++;
        }
        return keys > 0 ? keys : throw new ChainException($"{file}: no keys: the door would open for nobody");
    }
}

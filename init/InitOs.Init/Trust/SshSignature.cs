using System.Buffers.Binary;
using System.Text;

namespace InitOs.Init.Trust;

/// <summary>
/// OpenSSH's detached signature format (PROTOCOL.sshsig: what `ssh-keygen -Y sign` writes and
/// `ssh-keygen -Y verify` checks), for Ed25519 keys: the bundle signatures of upgrades. The
/// signed data binds a namespace, so a signature made for one purpose (a git commit, a file)
/// is not accepted for another.
/// </summary>
public static class SshSignature
{
    private const string Armor = "SSH SIGNATURE";
    private static readonly byte[] Magic = "SSHSIG"u8.ToArray();

    /// <summary>The key (its authorized_keys line from <paramref name="keys"/>) whose signature <paramref name="armored"/> is over <paramref name="message"/> in <paramref name="ns"/>.</summary>
    /// <exception cref="SignatureException">The signature is malformed, made in another namespace, by a key not in <paramref name="keys"/>, or does not verify.</exception>
    /// <param name="anySigner">Accept the key the signature names (its line is returned), still checking the signature with it: for
    /// showing who signed (`initos bundle inspect`), never for deciding to trust.</param>
    public static string Verify(string armored, ReadOnlySpan<byte> message, string ns, IEnumerable<string> keys, string source, bool anySigner = false)
    {
        var blob = Dearmor(armored, source);
        var reader = new WireReader(blob, source);
        if (!reader.Bytes(Magic.Length).SequenceEqual(Magic) || reader.UInt32() != 1)
        {
            throw new SignatureException($"{source}: not an SSH signature (SSHSIG version 1)");
        }
        var publicKey = reader.String();
        var signedNamespace = Encoding.UTF8.GetString(reader.String());
        var reserved = reader.String();
        var hashName = Encoding.ASCII.GetString(reader.String());
        var signatureBlob = reader.String();
        reader.End();
        if (signedNamespace != ns)
        {
            throw new SignatureException($"{source}: signed for namespace \"{signedNamespace}\", not \"{ns}\"");
        }
        var key = anySigner ? $"{Encoding.ASCII.GetString(new WireReader(publicKey, source).String())} {Convert.ToBase64String(publicKey)}"
            : keys.FirstOrDefault(k => KeyBlob(k).AsSpan().SequenceEqual(publicKey))
            ?? throw new SignatureException($"{source}: signed by a key that is not in the keyring ({Fingerprint(publicKey)})");
        var (keyType, rawKey) = Ed25519Blob(publicKey, source);
        var sigReader = new WireReader(signatureBlob, source);
        var sigType = Encoding.ASCII.GetString(sigReader.String());
        var rawSignature = sigReader.String();
        sigReader.End();
        if (sigType != keyType)
        {
            throw new SignatureException($"{source}: a {sigType} signature from a {keyType} key");
        }
        var signed = SignedData(ns, reserved, hashName, Digest(hashName, message, source));
        if (!Ed25519.Verify(rawKey, signed, rawSignature))
        {
            throw new SignatureException($"{source}: the signature does not verify with {Fingerprint(publicKey)}: the signed bytes were changed");
        }
        return key;
    }

    /// <summary>The key blob of an authorized_keys line ("ssh-ed25519 BASE64 comment").</summary>
    public static byte[] KeyBlob(string key)
    {
        var words = key.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 2 && Convert.TryFromBase64String(words[1], new byte[words[1].Length], out _) ? Convert.FromBase64String(words[1]) : [];
    }

    /// <summary>Whether a keyring entry is an Ed25519 public key line (the only kind bundles are signed with).</summary>
    public static bool IsEd25519Key(string key)
    {
        var blob = KeyBlob(key);
        try
        {
            return key.StartsWith("ssh-ed25519 ", StringComparison.Ordinal) && Ed25519Blob(blob, "key").Key.Length == 32;
        }
        catch (SignatureException)
        {
            return false;
        }
    }

    private static string Fingerprint(byte[] publicKey) => "SHA256:" + Convert.ToBase64String(Sys.Sha256.Hash(publicKey)).TrimEnd('=');

    private static (string Type, byte[] Key) Ed25519Blob(byte[] publicKey, string source)
    {
        var reader = new WireReader(publicKey, source);
        var type = Encoding.ASCII.GetString(reader.String());
        var raw = reader.String();
        reader.End();
        if (type != "ssh-ed25519" || raw.Length != 32)
        {
            throw new SignatureException($"{source}: a {type} key; bundles are signed with ssh-ed25519 keys");
        }
        return (type, raw);
    }

    private static byte[] Digest(string hashName, ReadOnlySpan<byte> message, string source) => hashName switch
    {
        "sha512" => Sys.Sha512.Hash(message),
        "sha256" => Sys.Sha256.Hash(message),
        _ => throw new SignatureException($"{source}: hash algorithm \"{hashName}\" (expected sha512 or sha256)"),
    };

    private static byte[] SignedData(string ns, byte[] reserved, string hashName, byte[] digest)
    {
        var writer = new MemoryStream();
        writer.Write(Magic);
        WriteString(writer, Encoding.UTF8.GetBytes(ns));
        WriteString(writer, reserved);
        WriteString(writer, Encoding.ASCII.GetBytes(hashName));
        WriteString(writer, digest);
        return writer.ToArray();
    }

    private static void WriteString(Stream stream, ReadOnlySpan<byte> value)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)value.Length);
        stream.Write(length);
        stream.Write(value);
    }

    private static byte[] Dearmor(string armored, string source)
    {
        var lines = armored.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 3 || lines[0] != $"-----BEGIN {Armor}-----" || lines[^1] != $"-----END {Armor}-----")
        {
            throw new SignatureException($"{source}: not an armored SSH signature (-----BEGIN {Armor}----- … -----END {Armor}-----)");
        }
        var body = string.Concat(lines[1..^1]);
        var bytes = new byte[body.Length];
        if (!Convert.TryFromBase64String(body, bytes, out int written))
        {
            throw new SignatureException($"{source}: the signature's base64 is damaged");
        }
        return bytes[..written];
    }

    /// <summary>Reads SSH wire strings (uint32 length, bytes), refusing a length past the end.</summary>
    private sealed class WireReader(byte[] data, string source)
    {
        private int _at;

        public byte[] Bytes(int count)
        {
            if (count < 0 || count > data.Length - _at)
            {
                throw new SignatureException($"{source}: the signature is cut short or its lengths are damaged");
            }
            var value = data.AsSpan(_at, count).ToArray();
            _at += count;
            return value;
        }

        public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Bytes(4));

        public byte[] String()
        {
            uint length = UInt32();
            return Bytes(length > int.MaxValue ? -1 : (int)length);
        }

        public void End()
        {
            if (_at != data.Length)
            {
                throw new SignatureException($"{source}: {data.Length - _at} bytes after the signature's last field");
            }
        }
    }
}

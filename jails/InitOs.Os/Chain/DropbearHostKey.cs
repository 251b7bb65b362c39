using System.Buffers.Binary;
using System.Text;
using InitOs.Init.Trust;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// An Ed25519 host key in dropbear's own file format (string "ssh-ed25519", then a 64-byte
/// string: the private seed and the public key), made here: dropbear's -R makes its keys only
/// under /etc/dropbear, which would be a write to the jail.
/// </summary>
public static class DropbearHostKey
{
    private const string Type = "ssh-ed25519";

    public static byte[] Create() => Encode(Kernel.RandomBytes(32));

    public static byte[] Encode(ReadOnlySpan<byte> seed)
    {
        var key = new byte[4 + Type.Length + 4 + 64];
        BinaryPrimitives.WriteUInt32BigEndian(key, (uint)Type.Length);
        Encoding.ASCII.GetBytes(Type, key.AsSpan(4));
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(4 + Type.Length), 64);
        seed.CopyTo(key.AsSpan(8 + Type.Length));
        Ed25519.PublicKey(seed).CopyTo(key.AsSpan(8 + Type.Length + 32));
        return key;
    }
}

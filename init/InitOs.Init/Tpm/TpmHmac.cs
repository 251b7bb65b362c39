using InitOs.Sys;

namespace InitOs.Init.Tpm;

/// <summary>
/// HMAC-SHA256 and the TPM's KDFa (TPM 2.0 Part 1, 11.4.10.2: SP 800-108 counter mode with
/// HMAC), over the managed <see cref="Sha256"/>: the initramfs carries no OpenSSL for .NET's.
/// </summary>
public static class TpmHmac
{
    private const int BlockSize = 64;

    public static byte[] Sha256(ReadOnlySpan<byte> key, params ReadOnlySpan<byte[]> parts)
    {
        Span<byte> block = stackalloc byte[BlockSize];
        block.Clear();
        if (key.Length > BlockSize)
        {
            Sys.Sha256.Hash(key).CopyTo(block);
        }
        else
        {
            key.CopyTo(block);
        }
        var inner = new Sys.Sha256();
        inner.Append(Xor(block, 0x36));
        foreach (var part in parts)
        {
            inner.Append(part);
        }
        var outer = new Sys.Sha256();
        outer.Append(Xor(block, 0x5c));
        outer.Append(inner.Finish());
        return outer.Finish();
    }

    /// <summary>
    /// KDFa(SHA256, key, label, contextU, contextV, bits): HMAC(key, counter ‖ label ‖ 0 ‖ U ‖ V ‖ bits)
    /// for counter 1, 2, … until enough bytes, cut to <paramref name="bits"/>.
    /// </summary>
    public static byte[] KdfA(ReadOnlySpan<byte> key, string label, byte[] contextU, byte[] contextV, int bits)
    {
        var labelBytes = new byte[label.Length + 1];
        System.Text.Encoding.ASCII.GetBytes(label, labelBytes);
        var output = new byte[(bits + 7) / 8];
        var bitsBytes = BigEndian(checked((uint)bits));
        for (uint counter = 1, done = 0; done < output.Length; counter++)
        {
            var piece = Sha256(key, BigEndian(counter), labelBytes, contextU, contextV, bitsBytes);
            int take = Math.Min(piece.Length, output.Length - (int)done);
            piece.AsSpan(0, take).CopyTo(output.AsSpan((int)done));
            done += (uint)take;
        }
        return output;
    }

    private static byte[] Xor(ReadOnlySpan<byte> block, byte pad)
    {
        var result = new byte[block.Length];
        for (int i = 0; i < block.Length; i++)
        {
            result[i] = (byte)(block[i] ^ pad);
        }
        return result;
    }

    private static byte[] BigEndian(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}

using System.Numerics;
using InitOs.Sys;

namespace InitOs.Init.Tpm;

/// <summary>
/// RSAES-OAEP encryption with SHA-256 and MGF1-SHA-256 (RFC 8017, 7.1.1): how a salt reaches
/// the TPM encrypted to its storage key's public half. Encryption uses only public values, so
/// BigInteger's arithmetic is enough; the decryption is the TPM's.
/// </summary>
public static class RsaOaep
{
    private const int HashLength = 32;

    /// <param name="modulus">n, big-endian, as the TPM gives it in TPM2B_PUBLIC_KEY_RSA.</param>
    /// <param name="exponent">e; the TPM writes 0 for the default 65537.</param>
    /// <param name="label">The OAEP label; the TPM's "SECRET" has its NUL.</param>
    public static byte[] Encrypt(byte[] modulus, uint exponent, ReadOnlySpan<byte> message, ReadOnlySpan<byte> label)
    {
        int k = modulus.Length;
        if (message.Length > k - 2 * HashLength - 2)
        {
            throw new ArgumentException($"{message.Length} bytes do not fit RSA-OAEP under a {k * 8}-bit key", nameof(message));
        }
        var db = new byte[k - HashLength - 1];
        Sha256.Hash(label).CopyTo(db, 0);
        db[db.Length - message.Length - 1] = 1;
        message.CopyTo(db.AsSpan(db.Length - message.Length));
        var seed = Kernel.RandomBytes(HashLength);
        XorInPlace(db, Mgf1(seed, db.Length));
        XorInPlace(seed, Mgf1(db, HashLength));

        var encoded = new byte[k];
        seed.CopyTo(encoded, 1);
        db.CopyTo(encoded, 1 + HashLength);
        var m = new BigInteger(encoded, isUnsigned: true, isBigEndian: true);
        var n = new BigInteger(modulus, isUnsigned: true, isBigEndian: true);
        var c = BigInteger.ModPow(m, exponent == 0 ? 65537 : exponent, n);
        var cipher = new byte[k];
        var bytes = c.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(cipher, k - bytes.Length);
        return cipher;
    }

    private static byte[] Mgf1(ReadOnlySpan<byte> seed, int length)
    {
        var mask = new byte[length];
        for (int counter = 0, done = 0; done < length; counter++)
        {
            var sha = new Sha256();
            sha.Append(seed);
            sha.Append([(byte)(counter >> 24), (byte)(counter >> 16), (byte)(counter >> 8), (byte)counter]);
            var block = sha.Finish();
            int take = Math.Min(block.Length, length - done);
            block.AsSpan(0, take).CopyTo(mask.AsSpan(done));
            done += take;
        }
        return mask;
    }

    private static void XorInPlace(byte[] target, byte[] mask)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] ^= mask[i];
        }
    }
}

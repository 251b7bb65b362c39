using System.Numerics;

namespace InitOs.Init.Trust;

/// <summary>
/// Ed25519 signature verification (RFC 8032, section 5.1.7), in managed code: the sidecar
/// checks signed upgrade bundles with it, and the initramfs carries no OpenSSL. Verification
/// only, over public data, so constant time does not matter here; the arithmetic is
/// BigInteger on extended twisted Edwards coordinates, about 2 ms a signature. Checked against
/// OpenSSH's signatures in the tests.
/// </summary>
public static class Ed25519
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    /// <summary>The order of the base point's group.</summary>
    private static readonly BigInteger L = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly BigInteger D = Mod(-121665 * Inverse(121666));
    private static readonly BigInteger SqrtMinusOne = BigInteger.ModPow(2, (P - 1) / 4, P);
    private static readonly Point Base = Decode(Convert.FromHexString("5866666666666666666666666666666666666666666666666666666666666666"))
        ?? throw new InvalidOperationException("Ed25519's base point does not decode");

    /// <summary>Whether <paramref name="signature"/> (64 bytes) is <paramref name="publicKey"/>'s (32 bytes) over <paramref name="message"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != 32 || signature.Length != 64)
        {
            return false;
        }
        var a = Decode(publicKey);
        var r = Decode(signature[..32]);
        var s = new BigInteger(signature[32..], isUnsigned: true, isBigEndian: false);
        if (a is null || r is null || s >= L)
        {
            return false;
        }
        var sha = new Sys.Sha512();
        sha.Append(signature[..32]);
        sha.Append(publicKey);
        sha.Append(message);
        var k = new BigInteger(sha.Finish(), isUnsigned: true, isBigEndian: false) % L;
        // [S]B = R + [k]A, checked as [S]B + [k](-A) = R, both products in one pass (Shamir's trick).
        var minusA = new Point(Mod(-a.Value.X), a.Value.Y, a.Value.Z, Mod(-a.Value.T));
        return Encode(MultiplyBoth(s, Base, k, minusA)).AsSpan().SequenceEqual(Encode(r.Value));
    }

    /// <summary>
    /// The public key of a 32-byte private seed (RFC 8032, 5.1.5), for a host key made on the
    /// machine. Variable time, like the rest of this file: it runs once per key, where nobody
    /// can time it over and over.
    /// </summary>
    public static byte[] PublicKey(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
        {
            throw new ArgumentException("an Ed25519 seed is 32 bytes", nameof(seed));
        }
        var sha = new Sys.Sha512();
        sha.Append(seed);
        var h = sha.Finish().AsSpan(0, 32).ToArray();
        h[0] &= 248;
        h[31] &= 127;
        h[31] |= 64;
        return Encode(MultiplyBoth(new BigInteger(h, isUnsigned: true, isBigEndian: false), Base, BigInteger.Zero, Identity));
    }

    /// <summary>[s]P + [k]Q with one doubling per bit: about half the work of two multiplications.</summary>
    private static Point MultiplyBoth(BigInteger s, Point p, BigInteger k, Point q)
    {
        var both = Add(p, q);
        var result = Identity;
        for (int bit = (int)Math.Max(s.GetBitLength(), k.GetBitLength()) - 1; bit >= 0; bit--)
        {
            result = Add(result, result);
            bool inS = !(s >> bit).IsEven, inK = !(k >> bit).IsEven;
            if (inS || inK)
            {
                result = Add(result, inS && inK ? both : inS ? p : q);
            }
        }
        return result;
    }

    /// <summary>A point in extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z.</summary>
    private readonly record struct Point(BigInteger X, BigInteger Y, BigInteger Z, BigInteger T);

    private static readonly Point Identity = new(0, 1, 1, 0);

    private static BigInteger Mod(BigInteger value)
    {
        var m = value % P;
        return m.Sign < 0 ? m + P : m;
    }

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    /// <summary>The unified addition of "Twisted Edwards Curves Revisited" (a = -1), as RFC 8032 gives it.</summary>
    private static Point Add(Point p, Point q)
    {
        var a = Mod((p.Y - p.X) * (q.Y - q.X));
        var b = Mod((p.Y + p.X) * (q.Y + q.X));
        var c = Mod(2 * p.T * q.T * D);
        var d = Mod(2 * p.Z * q.Z);
        var e = b - a;
        var f = d - c;
        var g = d + c;
        var h = b + a;
        return new Point(Mod(e * f), Mod(g * h), Mod(f * g), Mod(e * h));
    }

    private static byte[] Encode(Point point)
    {
        var zInverse = Inverse(point.Z);
        var x = Mod(point.X * zInverse);
        var y = Mod(point.Y * zInverse);
        var bytes = new byte[32];
        y.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        if (!x.IsEven)
        {
            bytes[31] |= 0x80;
        }
        return bytes;
    }

    /// <summary>A point from its 32-byte encoding, or null when it is none (y not below p, no square root, or -0).</summary>
    private static Point? Decode(ReadOnlySpan<byte> encoded)
    {
        Span<byte> yBytes = stackalloc byte[32];
        encoded.CopyTo(yBytes);
        bool xOdd = (yBytes[31] & 0x80) != 0;
        yBytes[31] &= 0x7F;
        var y = new BigInteger(yBytes, isUnsigned: true, isBigEndian: false);
        if (y >= P)
        {
            return null;
        }
        // x^2 = (y^2 - 1) / (d y^2 + 1); a root of u/v is (u v^3)(u v^7)^((p-5)/8).
        var u = Mod(y * y - 1);
        var v = Mod(D * y * y + 1);
        var x = Mod(u * BigInteger.ModPow(v, 3, P) * BigInteger.ModPow(Mod(u * BigInteger.ModPow(v, 7, P)), (P - 5) / 8, P));
        var vx2 = Mod(v * x * x);
        if (vx2 != u)
        {
            if (vx2 != Mod(-u))
            {
                return null;
            }
            x = Mod(x * SqrtMinusOne);
        }
        if (x.IsZero && xOdd)
        {
            return null;
        }
        if (!x.IsEven != xOdd)
        {
            x = P - x;
        }
        return new Point(x, y, 1, Mod(x * y));
    }
}

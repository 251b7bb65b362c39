using System.Buffers.Binary;
using System.Numerics;

namespace InitOs.Sys;

/// <summary>
/// SHA-256 (FIPS 180-4) in managed code. .NET's own calls OpenSSL, which the initramfs does
/// not carry (it would add libcrypto, about 4.5 MB, for a few hashes a boot), so what PID 1
/// and the admin door hash (key fingerprints, digests fixed at build time) goes through this.
/// Checked against .NET's in the unit tests.
/// </summary>
public sealed class Sha256
{
    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private readonly uint[] _state = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    private readonly byte[] _block = new byte[64];
    private readonly uint[] _schedule = new uint[64];
    private int _filled;
    private ulong _length;

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var sha = new Sha256();
        sha.Append(data);
        return sha.Finish();
    }

    /// <summary>The digest of a whole file, read in 1 MiB pieces.</summary>
    public static byte[] HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return HashStream(stream);
    }

    /// <summary>The digest of what is left in a stream, read in 1 MiB pieces.</summary>
    public static byte[] HashStream(Stream stream)
    {
        var sha = new Sha256();
        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            sha.Append(buffer.AsSpan(0, n));
        }
        return sha.Finish();
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _length += (ulong)data.Length;
        if (_filled > 0)
        {
            int take = Math.Min(64 - _filled, data.Length);
            data[..take].CopyTo(_block.AsSpan(_filled));
            _filled += take;
            data = data[take..];
            if (_filled < 64)
            {
                return;
            }
            Compress(_block);
            _filled = 0;
        }
        // Whole blocks straight from the caller's bytes: a bundle's megabytes are not copied twice.
        int whole = data.Length & ~63;
        Compress(data[..whole]);
        data[whole..].CopyTo(_block);
        _filled = data.Length - whole;
    }

    public byte[] Finish()
    {
        ulong bits = _length * 8;
        Span<byte> padding = stackalloc byte[72];
        padding.Clear();
        padding[0] = 0x80;
        int padLength = (_filled < 56 ? 56 : 120) - _filled;
        Append(padding[..padLength]);
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(lengthBytes, bits);
        Append(lengthBytes);
        var digest = new byte[32];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(i * 4), _state[i]);
        }
        return digest;
    }

    /// <summary>
    /// Compresses whole 64-byte blocks, the state in locals across all of them. Eight rounds per
    /// pass with the variables' roles renamed instead of shifted (the round that makes the new
    /// `a` writes it into the old `h`), so no round spends eight moves: the bundle verifier
    /// hashes every byte of an upgrade with this (docs/upgrades.md, the benchmark).
    /// </summary>
    private void Compress(ReadOnlySpan<byte> blocks)
    {
        Span<uint> w = _schedule;
        ReadOnlySpan<uint> k = K;
        uint a = _state[0], b = _state[1], c = _state[2], d = _state[3], e = _state[4], f = _state[5], g = _state[6], h = _state[7];
        while (blocks.Length >= 64)
        {
            for (int i = 0; i < 16; i++)
            {
                w[i] = BinaryPrimitives.ReadUInt32BigEndian(blocks.Slice(i * 4, 4));
            }
            for (int i = 16; i < 64; i++)
            {
                w[i] = w[i - 16] + SmallSigma0(w[i - 15]) + w[i - 7] + SmallSigma1(w[i - 2]);
            }
            uint a0 = a, b0 = b, c0 = c, d0 = d, e0 = e, f0 = f, g0 = g, h0 = h;
            for (int i = 0; i < 64; i += 8)
            {
                h += Sigma1(e) + Choose(e, f, g) + k[i] + w[i]; d += h; h += Sigma0(a) + Majority(a, b, c);
                g += Sigma1(d) + Choose(d, e, f) + k[i + 1] + w[i + 1]; c += g; g += Sigma0(h) + Majority(h, a, b);
                f += Sigma1(c) + Choose(c, d, e) + k[i + 2] + w[i + 2]; b += f; f += Sigma0(g) + Majority(g, h, a);
                e += Sigma1(b) + Choose(b, c, d) + k[i + 3] + w[i + 3]; a += e; e += Sigma0(f) + Majority(f, g, h);
                d += Sigma1(a) + Choose(a, b, c) + k[i + 4] + w[i + 4]; h += d; d += Sigma0(e) + Majority(e, f, g);
                c += Sigma1(h) + Choose(h, a, b) + k[i + 5] + w[i + 5]; g += c; c += Sigma0(d) + Majority(d, e, f);
                b += Sigma1(g) + Choose(g, h, a) + k[i + 6] + w[i + 6]; f += b; b += Sigma0(c) + Majority(c, d, e);
                a += Sigma1(f) + Choose(f, g, h) + k[i + 7] + w[i + 7]; e += a; a += Sigma0(b) + Majority(b, c, d);
            }
            a += a0;
            b += b0;
            c += c0;
            d += d0;
            e += e0;
            f += f0;
            g += g0;
            h += h0;
            blocks = blocks[64..];
        }
        _state[0] = a;
        _state[1] = b;
        _state[2] = c;
        _state[3] = d;
        _state[4] = e;
        _state[5] = f;
        _state[6] = g;
        _state[7] = h;
    }

    private static uint Sigma0(uint x) => BitOperations.RotateRight(x, 2) ^ BitOperations.RotateRight(x, 13) ^ BitOperations.RotateRight(x, 22);

    private static uint Sigma1(uint x) => BitOperations.RotateRight(x, 6) ^ BitOperations.RotateRight(x, 11) ^ BitOperations.RotateRight(x, 25);

    private static uint SmallSigma0(uint x) => BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3);

    private static uint SmallSigma1(uint x) => BitOperations.RotateRight(x, 17) ^ BitOperations.RotateRight(x, 19) ^ (x >> 10);

    private static uint Choose(uint x, uint y, uint z) => z ^ (x & (y ^ z));

    private static uint Majority(uint x, uint y, uint z) => (x & y) | (z & (x | y));
}

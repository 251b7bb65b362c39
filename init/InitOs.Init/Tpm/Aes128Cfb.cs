namespace InitOs.Init.Tpm;

/// <summary>
/// AES-128 in CFB mode (full-block feedback), the TPM's parameter encryption for sessions
/// started with symmetric = AES-128-CFB. CFB uses only the forward cipher, so only that is
/// here. Managed because .NET's AES is OpenSSL's, which the initramfs does not carry. Its table
/// lookups are not constant-time: it runs in the initramfs on one secret a boot, before any
/// other program on the machine has started.
/// </summary>
public sealed class Aes128Cfb
{
    private static readonly byte[] SBox = BuildSBox();
    private readonly byte[] _roundKeys = new byte[176];

    public Aes128Cfb(ReadOnlySpan<byte> key)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException($"an AES-128 key is 16 bytes, not {key.Length}", nameof(key));
        }
        ExpandKey(key);
    }

    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plain) => new Aes128Cfb(key).Run(iv, plain, decrypt: false);

    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> cipher) => new Aes128Cfb(key).Run(iv, cipher, decrypt: true);

    /// <summary>One block through the cipher (FIPS 197), in place.</summary>
    public void EncryptBlock(Span<byte> state)
    {
        AddRoundKey(state, 0);
        for (int round = 1; round < 10; round++)
        {
            SubBytesShiftRows(state);
            MixColumns(state);
            AddRoundKey(state, round);
        }
        SubBytesShiftRows(state);
        AddRoundKey(state, 10);
    }

    private byte[] Run(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, bool decrypt)
    {
        if (iv.Length != 16)
        {
            throw new ArgumentException($"a CFB IV is 16 bytes, not {iv.Length}", nameof(iv));
        }
        var output = new byte[input.Length];
        Span<byte> register = stackalloc byte[16];
        iv.CopyTo(register);
        for (int offset = 0; offset < input.Length; offset += 16)
        {
            EncryptBlock(register);
            int n = Math.Min(16, input.Length - offset);
            for (int i = 0; i < n; i++)
            {
                output[offset + i] = (byte)(input[offset + i] ^ register[i]);
            }
            // The next register is the ciphertext block: what was read when decrypting, what was written when encrypting.
            (decrypt ? input.Slice(offset, n) : output.AsSpan(offset, n)).CopyTo(register);
        }
        return output;
    }

    private void ExpandKey(ReadOnlySpan<byte> key)
    {
        key.CopyTo(_roundKeys);
        byte rcon = 1;
        Span<byte> word = stackalloc byte[4];
        for (int i = 16; i < 176; i += 4)
        {
            _roundKeys.AsSpan(i - 4, 4).CopyTo(word);
            if (i % 16 == 0)
            {
                byte first = word[0];
                word[0] = (byte)(SBox[word[1]] ^ rcon);
                word[1] = SBox[word[2]];
                word[2] = SBox[word[3]];
                word[3] = SBox[first];
                rcon = Times2(rcon);
            }
            for (int j = 0; j < 4; j++)
            {
                _roundKeys[i + j] = (byte)(_roundKeys[i - 16 + j] ^ word[j]);
            }
        }
    }

    private void AddRoundKey(Span<byte> state, int round)
    {
        for (int i = 0; i < 16; i++)
        {
            state[i] ^= _roundKeys[round * 16 + i];
        }
    }

    // The state is column-major (byte r + 4c is row r, column c); row r shifts left by r.
    private static void SubBytesShiftRows(Span<byte> state)
    {
        Span<byte> copy = stackalloc byte[16];
        state.CopyTo(copy);
        for (int column = 0; column < 4; column++)
        {
            for (int row = 0; row < 4; row++)
            {
                state[row + 4 * column] = SBox[copy[row + 4 * ((column + row) % 4)]];
            }
        }
    }

    private static void MixColumns(Span<byte> state)
    {
        for (int c = 0; c < 16; c += 4)
        {
            byte a0 = state[c], a1 = state[c + 1], a2 = state[c + 2], a3 = state[c + 3];
            state[c] = (byte)(Times2(a0) ^ Times2(a1) ^ a1 ^ a2 ^ a3);
            state[c + 1] = (byte)(a0 ^ Times2(a1) ^ Times2(a2) ^ a2 ^ a3);
            state[c + 2] = (byte)(a0 ^ a1 ^ Times2(a2) ^ Times2(a3) ^ a3);
            state[c + 3] = (byte)(Times2(a0) ^ a0 ^ a1 ^ a2 ^ Times2(a3));
        }
    }

    private static byte Times2(byte b) => (byte)((b << 1) ^ ((b & 0x80) != 0 ? 0x1b : 0));

    /// <summary>The S-box from its definition: the inverse in GF(2⁸), then the affine map.</summary>
    private static byte[] BuildSBox()
    {
        var box = new byte[256];
        byte p = 1, q = 1;
        do
        {
            p = (byte)(p ^ Times2(p));             // p ×= 3
            q ^= (byte)(q << 1);                    // q ÷= 3
            q ^= (byte)(q << 2);
            q ^= (byte)(q << 4);
            if ((q & 0x80) != 0)
            {
                q ^= 0x09;
            }
            byte x = (byte)(q ^ Rotl(q, 1) ^ Rotl(q, 2) ^ Rotl(q, 3) ^ Rotl(q, 4));
            box[p] = (byte)(x ^ 0x63);
        }
        while (p != 1);
        box[0] = 0x63;
        return box;
    }

    private static byte Rotl(byte b, int n) => (byte)((b << n) | (b >> (8 - n)));
}

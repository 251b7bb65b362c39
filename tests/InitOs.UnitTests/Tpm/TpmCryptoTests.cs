using System.Security.Cryptography;
using InitOs.Init.Tpm;
using Xunit;

namespace InitOs.UnitTests.Tpm;

/// <summary>The managed primitives the TPM client uses, checked against .NET's (OpenSSL's) on the host.</summary>
public sealed class TpmCryptoTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(200)]
    public void Aes128_cfb_matches_dotnet_both_ways(int length)
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var plain = RandomNumberGenerator.GetBytes(length);
        using var aes = Aes.Create();
        aes.Key = key;
        // CFB's ciphertext is a prefix-wise XOR: a partial last block is the full block's ciphertext cut short.
        var padded = new byte[(length + 15) / 16 * 16];
        plain.CopyTo(padded, 0);
        var expected = aes.EncryptCfb(padded, iv, PaddingMode.None, feedbackSizeInBits: 128)[..length];

        var cipher = Aes128Cfb.Encrypt(key, iv, plain);

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(cipher));
        Assert.Equal(plain, Aes128Cfb.Decrypt(key, iv, cipher));
    }

    [Fact]
    public void Aes128_encrypts_the_fips_197_example_block()
    {
        var block = Convert.FromHexString("00112233445566778899aabbccddeeff");
        new Aes128Cfb(Convert.FromHexString("000102030405060708090a0b0c0d0e0f")).EncryptBlock(block);
        Assert.Equal("69c4e0d86a7b0430d8cdb78070b4c55a", Convert.ToHexStringLower(block));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(64)]
    [InlineData(100)]
    public void Hmac_sha256_matches_dotnet(int keyLength)
    {
        var key = RandomNumberGenerator.GetBytes(keyLength);
        var a = RandomNumberGenerator.GetBytes(70);
        var b = RandomNumberGenerator.GetBytes(3);
        Assert.Equal(HMACSHA256.HashData(key, (byte[])[.. a, .. b]), TpmHmac.Sha256(key, a, b));
    }

    [Fact]
    public void KdfA_is_counter_mode_hmac_with_the_label_its_nul_both_contexts_and_the_bit_count()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        byte[] u = [1, 2, 3], v = [4, 5];
        byte[] Block(uint counter) => HMACSHA256.HashData(key, (byte[])[.. BigEndian(counter), .. "CFB"u8, 0, .. u, .. v, .. BigEndian(384)]);

        var derived = TpmHmac.KdfA(key, "CFB", u, v, 384);

        Assert.Equal([.. Block(1), .. Block(2)[..16]], derived);
    }

    [Fact]
    public void Rsa_oaep_sha256_encryption_decrypts_with_dotnet()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var message = RandomNumberGenerator.GetBytes(32);
        uint exponent = (uint)new System.Numerics.BigInteger(parameters.Exponent!, isUnsigned: true, isBigEndian: true);

        var cipher = RsaOaep.Encrypt(parameters.Modulus!, exponent, message, []);

        Assert.Equal(256, cipher.Length);
        Assert.Equal(message, rsa.Decrypt(cipher, RSAEncryptionPadding.OaepSHA256));
    }

    private static byte[] BigEndian(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}

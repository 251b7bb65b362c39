using InitOs.Init.Trust;
using InitOs.TestKit;

namespace InitOs.UnitTests.Trust;

/// <summary>The managed Ed25519 verifier, against RFC 8032's first test vector and OpenSSL's signatures.</summary>
public sealed class Ed25519Tests
{
    [Fact]
    public void The_rfc_8032_vectors_seed_gives_its_public_key()
    {
        var seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        Assert.Equal("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Convert.ToHexStringLower(Ed25519.PublicKey(seed)));
    }

    [Fact]
    public void The_rfc_8032_vector_verifies_and_any_flipped_bit_of_it_does_not()
    {
        var key = Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        var signature = Convert.FromHexString("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        Assert.True(Ed25519.Verify(key, [], signature));
        for (int bit = 0; bit < 512; bit += 7)
        {
            var flipped = (byte[])signature.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Ed25519.Verify(key, [], flipped), $"signature bit {bit}");
        }
        Assert.False(Ed25519.Verify(key, [0], signature));
    }

    [Fact]
    public void Openssls_signatures_verify_for_their_message_only()
    {
        using var dir = new TempDirectory();
        var privateKey = dir.File("key.pem");
        Tool.Run("openssl", "genpkey", "-algorithm", "ed25519", "-out", privateKey);
        // The raw public key is the last 32 bytes of its DER SubjectPublicKeyInfo.
        Tool.Run("openssl", "pkey", "-in", privateKey, "-pubout", "-outform", "DER", "-out", dir.File("pub.der"));
        var publicKey = File.ReadAllBytes(dir.File("pub.der"))[^32..];
        var random = new Random(25519);
        // Lengths from one byte (openssl's one-shot signing refuses an empty message; RFC 8032's vector above is empty).
        foreach (var length in new[] { 1, 63, 64, 1000 })
        {
            var message = new byte[length];
            random.NextBytes(message);
            File.WriteAllBytes(dir.File("message"), message);
            Tool.Run("openssl", "pkeyutl", "-sign", "-rawin", "-inkey", privateKey, "-in", dir.File("message"), "-out", dir.File("sig"));
            var signature = File.ReadAllBytes(dir.File("sig"));
            Assert.True(Ed25519.Verify(publicKey, message, signature), $"length {length}");
            var other = message.Append((byte)1).ToArray();
            Assert.False(Ed25519.Verify(publicKey, other, signature), $"length {length}, one byte more");
        }
    }

    [Fact]
    public void Keys_and_signatures_of_the_wrong_shape_are_refused()
    {
        Assert.False(Ed25519.Verify(new byte[31], [], new byte[64]));
        Assert.False(Ed25519.Verify(new byte[32], [], new byte[63]));
        // S at or above the group order is refused (RFC 8032's malleability check).
        var signature = new byte[64];
        Array.Fill(signature, (byte)0xFF, 32, 32);
        Assert.False(Ed25519.Verify(Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), [], signature));
    }
}

namespace InitOs.UnitTests.Sys;

public sealed class Sha256Tests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(119)]
    [InlineData(120)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public void The_digest_is_the_one_dotnet_computes_at_every_padding_boundary(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), InitOs.Sys.Sha256.Hash(data));
    }

    [Fact]
    public void Pieces_of_any_size_give_the_digest_of_the_whole()
    {
        var data = new byte[5000];
        new Random(7).NextBytes(data);
        var sha = new InitOs.Sys.Sha256();
        for (int at = 0, step = 1; at < data.Length; at += step, step = step * 3 % 97 + 1)
        {
            sha.Append(data.AsSpan(at, Math.Min(step, data.Length - at)));
        }
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), sha.Finish());
    }

    [Fact]
    public void The_fips_example_abc() =>
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(InitOs.Sys.Sha256.Hash("abc"u8)));

    /// <summary>
    /// Bulk hashing (bundles, OS images) goes through Digests: the kernel's SHA-256 when it has
    /// AF_ALG (these hosts' kernels have not: the guests' boots use it), else the managed one; a
    /// file hashed in pieces is hashed whole.
    /// </summary>
    [Fact]
    public void The_bulk_digest_of_a_file_is_the_one_dotnet_computes_whichever_engine_runs()
    {
        using var dir = new TestKit.TempDirectory("initos-digest-");
        var data = new byte[(3 << 20) + 77];
        new Random(3).NextBytes(data);
        File.WriteAllBytes(dir.File("blob"), data);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), InitOs.Sys.Digests.HashFile(dir.File("blob")));
        using var digest = InitOs.Sys.Digests.Sha256();
        Assert.Contains(digest.Engine, new[] { "managed", "the kernel's (AF_ALG)" });
        Assert.Equal(InitOs.Sys.KernelSha256.TryOpen() is null ? "managed" : "the kernel's (AF_ALG)", digest.Engine);
    }
}

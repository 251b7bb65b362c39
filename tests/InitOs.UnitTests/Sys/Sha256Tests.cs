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
}

namespace InitOs.UnitTests.Sys;

public sealed class Sha512Tests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(111)]
    [InlineData(112)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(239)]
    [InlineData(240)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public void The_digest_is_the_one_dotnet_computes_at_every_padding_boundary(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(System.Security.Cryptography.SHA512.HashData(data), InitOs.Sys.Sha512.Hash(data));
    }

    [Fact]
    public void Pieces_of_any_size_give_the_digest_of_the_whole()
    {
        var data = new byte[5000];
        new Random(7).NextBytes(data);
        var sha = new InitOs.Sys.Sha512();
        for (int at = 0, step = 1; at < data.Length; at += step, step = step * 3 % 197 + 1)
        {
            sha.Append(data.AsSpan(at, Math.Min(step, data.Length - at)));
        }
        Assert.Equal(System.Security.Cryptography.SHA512.HashData(data), sha.Finish());
    }
}

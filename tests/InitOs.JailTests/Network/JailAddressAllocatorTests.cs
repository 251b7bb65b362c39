using System.Collections.Concurrent;
using System.Net;
using InitOs.Jails.Network;
using InitOs.TestKit;

namespace InitOs.JailTests.Network;

public sealed class JailAddressAllocatorTests
{
    private static readonly IPNetwork Subnet = IPNetwork.Parse("10.213.7.0/24");

    [Fact]
    public void FirstJail_GetsTheAddressAfterTheGateway_AndKeepsItWhenAskingAgain()
    {
        using var state = new TempDirectory();
        var allocator = new JailAddressAllocator(state.Path, Subnet);

        var first = allocator.Allocate("a");

        Assert.Equal(IPAddress.Parse("10.213.7.2"), first);
        Assert.Equal(first, allocator.Allocate("a"));
        Assert.Equal(IPAddress.Parse("10.213.7.3"), allocator.Allocate("b"));
        Assert.Equal("a\n", File.ReadAllText(state.File("10.213.7.2")));
    }

    [Fact]
    public void ManyAllocatorsAtOnce_NeverHandOutTheSameAddress()
    {
        using var state = new TempDirectory();
        var results = new ConcurrentBag<IPAddress>();

        Parallel.For(0, 100, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            results.Add(new JailAddressAllocator(state.Path, Subnet).Allocate($"jail-{i}")));

        Assert.Equal(100, results.Distinct().Count());
        Assert.Equal(100, Directory.GetFiles(state.Path).Length);
    }

    [Fact]
    public void Release_FreesTheAddressForTheNextJail()
    {
        using var state = new TempDirectory();
        var allocator = new JailAddressAllocator(state.Path, Subnet);
        var a = allocator.Allocate("a");
        allocator.Allocate("b");

        allocator.Release("a");
        allocator.Release("a");

        Assert.Null(allocator.Find("a"));
        Assert.Equal(a, allocator.Allocate("c"));
    }

    [Fact]
    public void AFullSubnet_FailsNamingTheJailAndTheSubnet()
    {
        using var state = new TempDirectory();
        var allocator = new JailAddressAllocator(state.Path, IPNetwork.Parse("10.213.9.0/30"));
        Assert.Equal(IPAddress.Parse("10.213.9.2"), allocator.Allocate("only"));

        var e = Assert.Throws<InvalidOperationException>(() => allocator.Allocate("one-too-many"));

        Assert.Contains("one-too-many", e.Message);
        Assert.Contains("10.213.9.0/30", e.Message);
    }
}

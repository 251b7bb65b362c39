using System.Net;
using InitOs.Jails.Network;

namespace InitOs.JailTests.Network;

public sealed class JailNetworkFilesTests
{
    private const string HostResolvConf = "# from dhcp\nsearch example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\nnameserver 2001:db8::53\nnameserver\t198.51.100.1\n";

    [Fact]
    public void Bridge_TakesTheHostsUsableIPv4Nameservers()
    {
        var config = new JailNetworkConfig();

        Assert.Equal("nameserver 192.0.2.53\nnameserver 198.51.100.1\n", JailNetworkFiles.ResolvConf(config, HostResolvConf));
    }

    [Fact]
    public void Bridge_FallsBackTo10023_WhenTheHostHasOnlyLoopbackServers()
    {
        var config = new JailNetworkConfig();

        Assert.Equal("nameserver 10.0.2.3\n", JailNetworkFiles.ResolvConf(config, "nameserver 127.0.0.53\n"));
        Assert.Equal("nameserver 10.0.2.3\n", JailNetworkFiles.ResolvConf(config, null));
    }

    [Fact]
    public void Bridge_ConfiguredNameserversWin()
    {
        var config = new JailNetworkConfig { Nameservers = [IPAddress.Parse("9.9.9.9")] };

        Assert.Equal("nameserver 9.9.9.9\n", JailNetworkFiles.ResolvConf(config, HostResolvConf));
    }

    [Fact]
    public void Host_SharesTheHostsFile_NoneHasNoServers()
    {
        Assert.Equal(HostResolvConf, JailNetworkFiles.ResolvConf(new JailNetworkConfig { Mode = NetworkMode.Host }, HostResolvConf));
        Assert.DoesNotContain("nameserver", JailNetworkFiles.ResolvConf(new JailNetworkConfig { Mode = NetworkMode.None }, HostResolvConf));
    }

    [Fact]
    public void For_GivesResolvConfHostnameAndHosts()
    {
        var files = JailNetworkFiles.For(new JailNetworkConfig(), "web-1", IPAddress.Parse("10.88.0.2"), null);

        Assert.Equal(["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"], files.Select(f => f.PathInJail));
        Assert.Equal("web-1\n", files[1].Content);
        Assert.Contains("10.88.0.2\tweb-1\n", files[2].Content);
        Assert.Contains("127.0.0.1\tlocalhost\n", files[2].Content);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-web")]
    [InlineData("web_1")]
    [InlineData("a..b")]
    [InlineData("web\nnameserver 1.2.3.4")]
    public void BadHostnames_AreRefused(string hostname)
    {
        Assert.Throws<ArgumentException>(() => JailNetworkFiles.Hostname(hostname));
    }

    [Fact]
    public void Config_RefusesIPv6AndTinySubnets()
    {
        Assert.Throws<ArgumentException>(() => new JailNetworkConfig { Subnet = IPNetwork.Parse("fd00::/64") }.Validate());
        Assert.Throws<ArgumentException>(() => new JailNetworkConfig { Subnet = IPNetwork.Parse("10.0.0.0/31") }.Validate());
        Assert.Equal(IPAddress.Parse("10.88.0.1"), new JailNetworkConfig().Gateway);
    }
}

using System.Net;
using InitOs.Sys.Netlink;

namespace InitOs.JailTests.Network;

/// <summary>Byte layout of the requests, against bytes worked out by hand from the kernel headers.</summary>
public sealed class NetlinkMessageLayoutTests
{
    [Fact]
    public void CreateBridge_HasIfnameAndNestedKind_Aligned()
    {
        var bytes = RtnlRequests.CreateBridge("br0").Build(sequence: 1);

        Assert.Equal(Hex(
            "38000000 1000 0506 01000000 00000000",   // nlmsghdr: len 56, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 1
            "00000000 00000000 00000000 00000000",    // ifinfomsg: all zero
            "0800 0300 62723000",                     // IFLA_IFNAME "br0\0"
            "1000 1200",                              // IFLA_LINKINFO, 16 bytes with its child
            "0b00 0100 62726964676500 00"),           // IFLA_INFO_KIND "bridge\0" (len 11) + 1 pad byte
            bytes);
    }

    [Fact]
    public void CreateVethPair_NestsPeerIfinfomsgAndNamespaceFd()
    {
        var bytes = RtnlRequests.CreateVethPair("va", "vb", NetworkNamespaceTarget.ByFd(7)).Build(sequence: 2);

        Assert.Equal(Hex(
            "60000000 1000 0506 02000000 00000000",   // len 96
            "00000000 00000000 00000000 00000000",
            "0700 0300 766100 00",                    // IFLA_IFNAME "va\0": len 7, padded to 8
            "3800 1200",                              // IFLA_LINKINFO (56)
            "0900 0100 7665746800 000000",            //   IFLA_INFO_KIND "veth\0": len 9, padded to 12
            "2800 0200",                              //   IFLA_INFO_DATA (40)
            "2400 0100",                              //     VETH_INFO_PEER (36)
            "00000000 00000000 00000000 00000000",    //       the peer's ifinfomsg
            "0700 0300 766200 00",                    //       IFLA_IFNAME "vb\0"
            "0800 1c00 07000000"),                    //       IFLA_NET_NS_FD 7
            bytes);
    }

    [Fact]
    public void SetUp_SetsFlagAndChangeMask_SetDownOnlyTheMask()
    {
        var up = RtnlRequests.SetUp("lo", up: true).Build(3);
        var down = RtnlRequests.SetUp("lo", up: false).Build(3);

        Assert.Equal(Hex("00000000 01000000 01000000"), up[20..32]);   // ifi_index 0, ifi_flags IFF_UP, ifi_change IFF_UP
        Assert.Equal(Hex("00000000 00000000 01000000"), down[20..32]);
        Assert.Equal(Hex("0500"), up[6..8]);                            // REQUEST|ACK: changes, never creates
    }

    [Fact]
    public void AddIPv4Address_LocalAndAddressAfterIfaddrmsg()
    {
        var bytes = RtnlRequests.AddIPv4Address(5, IPAddress.Parse("10.0.0.2"), 24).Build(4);

        Assert.Equal(Hex(
            "28000000 1400 0506 04000000 00000000",   // len 40, RTM_NEWADDR
            "02 18 00 00 05000000",                   // ifaddrmsg: AF_INET, /24, flags 0, scope universe, index 5
            "0800 0200 0a000002",                     // IFA_LOCAL
            "0800 0100 0a000002"),                    // IFA_ADDRESS
            bytes);
    }

    [Fact]
    public void AddDefaultRoute_GatewayAndOutputInterface()
    {
        var bytes = RtnlRequests.AddDefaultRoute(IPAddress.Parse("10.0.0.1"), 3).Build(5);

        Assert.Equal(Hex(
            "2c000000 1800 0506 05000000 00000000",   // len 44, RTM_NEWROUTE
            "02 00 00 00 fe 04 00 01 00000000",       // rtmsg: AF_INET, dst_len 0, main table, static, universe, unicast
            "0800 0500 0a000001",                     // RTA_GATEWAY
            "0800 0400 03000000"),                    // RTA_OIF 3
            bytes);
    }

    [Fact]
    public void MoveToNamespace_ByPid()
    {
        var bytes = RtnlRequests.MoveToNamespace("veth1", NetworkNamespaceTarget.ByPid(0x1234)).Build(6);

        Assert.Equal(Hex("0800 1300 34120000"), bytes[^8..]);          // IFLA_NET_NS_PID
        Assert.Equal(bytes.Length, BitConverter.ToInt32(bytes, 0));
    }

    [Fact]
    public void Builder_RefusesUnbalancedNesting()
    {
        var open = new NetlinkMessageBuilder(Rtnl.MessageType.NewLink, Rtnl.Flags.Request).BeginNested(Rtnl.Link.LinkInfo);
        Assert.Throws<InvalidOperationException>(() => open.Build());
        Assert.Throws<InvalidOperationException>(() => new NetlinkMessageBuilder(Rtnl.MessageType.NewLink, 0).EndNested());
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("a/b")]
    [InlineData("a b")]
    public void InvalidInterfaceNames_AreRefusedBeforeTheKernel(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => RtnlRequests.CreateBridge(name));
        Assert.Contains($"'{name}'", e.Message);
    }

    private static byte[] Hex(params string[] parts) => Convert.FromHexString(string.Concat(parts).Replace(" ", ""));
}

using System.Net;
using InitOs.Sys;
using InitOs.Sys.Netlink;

namespace InitOs.JailTests.Network;

/// <summary>The rtnetlink client against the real kernel (root), checked with iproute2.</summary>
public sealed class RouteNetlinkTests
{
    [Fact]
    public void CreatingAnExistingVeth_FailsNamingTheRequestAndTheLink()
    {
        using var host = new NetworkTestHost();
        string name = host.LinkName("a");
        string peer = host.LinkName("b");
        using var netlink = RouteNetlink.Open();
        netlink.CreateVethPair(name, peer);

        var e = Assert.Throws<SysException>(() => netlink.CreateVethPair(name, host.LinkName("c")));

        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.StartsWith($"RTM_NEWLINK {name}", e.Message);
        Assert.Contains("File exists", e.Message);
    }

    [Fact]
    public void OperationsOnAMissingLink_FailNamingTheLink()
    {
        using var host = new NetworkTestHost();
        string missing = host.LinkName("x");
        using var netlink = RouteNetlink.Open();

        var up = Assert.Throws<SysException>(() => netlink.SetUp(missing));
        var delete = Assert.Throws<SysException>(() => netlink.DeleteLink(missing));
        var address = Assert.Throws<SysException>(() => netlink.AddIPv4Address(missing, IPAddress.Parse("10.213.0.9"), 24));

        Assert.Equal(Errno.ENODEV, up.Errno);
        Assert.Contains($"RTM_NEWLINK {missing} up", up.Message);
        Assert.Contains($"RTM_DELLINK {missing}", delete.Message);
        Assert.Contains($"RTM_GETLINK {missing}", address.Message);
        Assert.Null(netlink.TryGetLinkIndex(missing));
    }

    [Fact]
    public void TheKernelsOwnExplanation_IsCarriedInTheError()
    {
        using var host = new NetworkTestHost();
        string ns = host.AddNamespace("why");
        using var inside = RouteNetlink.OpenInNamespace(NetworkTestHost.NamespacePath(ns));
        inside.CreateBridge("br9");
        inside.SetUp("br9");

        // No address of br9 is on 192.0.2.0/24, so the gateway cannot be reached over it.
        var e = Assert.Throws<SysException>(() => inside.AddDefaultRoute(IPAddress.Parse("192.0.2.1"), "br9"));

        Assert.StartsWith("RTM_NEWROUTE default via 192.0.2.1 dev br9 (", e.Message);
        Assert.Contains("gateway", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void VethPeerBornInANamespace_IsAVethThereAndAbsentHere()
    {
        using var host = new NetworkTestHost();
        string ns = host.AddNamespace("peer");
        string name = host.LinkName("h");
        string peer = host.LinkName("j");
        using var netlink = RouteNetlink.Open();
        int nsFd = OpenNamespace(ns, out var close);
        try
        {
            netlink.CreateVethPair(name, peer, NetworkNamespaceTarget.ByFd(nsFd));
        }
        finally
        {
            close();
        }

        Assert.Matches($"{peer}@if\\d+:.*\\n.*\\n\\s+veth", NetworkTestHost.Ip("-n", ns, "-d", "link", "show", peer));
        Assert.Matches($"{name}@if\\d+:.*\\n.*\\n\\s+veth", NetworkTestHost.Ip("-d", "link", "show", name));
        Assert.False(NetworkTestHost.HostLinkExists(peer));
        Assert.Equal(IndexOnHost(name), netlink.GetLinkIndex(name));
    }

    [Fact]
    public void MoveRenameAndAddressInsideANamespace_SeenByIproute()
    {
        using var host = new NetworkTestHost();
        string ns = host.AddNamespace("move");
        string name = host.LinkName("m");
        string peer = host.LinkName("p");
        using var netlink = RouteNetlink.Open();
        netlink.CreateVethPair(name, peer);

        netlink.MoveToNamespace(peer, NetworkNamespaceTarget.ByFd(OpenNamespace(ns, out var close)));
        close();
        using (var inside = RouteNetlink.OpenInNamespace(NetworkTestHost.NamespacePath(ns)))
        {
            inside.Rename(peer, "eth1");
            inside.AddIPv4Address("eth1", IPAddress.Parse("10.213.250.2"), 24);
            inside.SetUp("eth1");
            inside.SetUp("lo");
            inside.AddDefaultRoute(IPAddress.Parse("10.213.250.1"), "eth1");
        }

        Assert.False(NetworkTestHost.HostLinkExists(peer));
        Assert.Null(netlink.TryGetLinkIndex(peer));
        Assert.Contains("inet 10.213.250.2/24", NetworkTestHost.Ip("-n", ns, "addr", "show", "eth1"));
        Assert.Contains("default via 10.213.250.1 dev eth1", NetworkTestHost.Ip("-n", ns, "route", "show"));
        Assert.Contains("UP", NetworkTestHost.Ip("-n", ns, "-br", "link", "show", "lo"));
    }

    [Fact]
    public void SocketOpenedInANamespace_ActsThere_AndTheCallerStaysWhereItWas()
    {
        using var host = new NetworkTestHost();
        string ns = host.AddNamespace("stay");
        string hostOnly = host.LinkName("o");
        string before = ThreadNamespace();
        using var outside = RouteNetlink.Open();
        outside.CreateBridge(hostOnly);

        using var inside = RouteNetlink.OpenInNamespace(NetworkTestHost.NamespacePath(ns));

        Assert.Equal(before, ThreadNamespace());
        Assert.True(outside.LinkExists(hostOnly));
        Assert.False(inside.LinkExists(hostOnly));
        Assert.Equal(1, inside.GetLinkIndex("lo"));
        Assert.Equal(before, ThreadNamespace());
    }

    private static int OpenNamespace(string ns, out Action close)
    {
        int fd = Files.Open(NetworkTestHost.NamespacePath(ns), OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        close = () => Files.Close(fd);
        return fd;
    }

    private static string ThreadNamespace() => new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "";

    private static int IndexOnHost(string name) => int.Parse(File.ReadAllText($"/sys/class/net/{name}/ifindex").Trim());

}

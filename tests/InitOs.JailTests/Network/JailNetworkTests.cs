using System.Net;
using InitOs.Jails.Network;
using InitOs.Sys.Netlink;

namespace InitOs.JailTests.Network;

/// <summary>Jails in real network namespaces on a real bridge, created by the code under test.</summary>
public sealed class JailNetworkTests
{
    [Fact]
    public void EnsureBridge_IsIdempotent_BridgeUpWithTheGatewayAddress()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();

        network.EnsureBridge();
        network.EnsureBridge();

        var details = NetworkTestHost.Ip("-d", "addr", "show", host.BridgeName);
        Assert.Contains("bridge", details);
        Assert.Contains($"inet {network.Config.Gateway}/24", details);
        Assert.Single(details.Split('\n'), line => line.Contains("inet "));
        Assert.Contains(",UP", details.Split('\n')[0]);
    }

    [Fact]
    public void TwoJails_GetDistinctAddresses_AndReachEachOtherAndTheBridge()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string nsA = host.AddNamespace("a");
        string nsB = host.AddNamespace("b");
        string jailA = host.JailId("a");
        string jailB = host.JailId("b");

        var addressA = network.AttachJail(jailA, NetworkTestHost.NamespacePath(nsA));
        var addressB = network.AttachJail(jailB, NetworkTestHost.NamespacePath(nsB));

        Assert.NotNull(addressA);
        Assert.NotNull(addressB);
        Assert.NotEqual(addressA, addressB);
        Assert.True(host.Subnet.Contains(addressA) && host.Subnet.Contains(addressB));
        Assert.Contains($"inet {addressA}/24", NetworkTestHost.Ip("-n", nsA, "addr", "show", "eth0"));
        Assert.Contains($"default via {network.Config.Gateway} dev eth0", NetworkTestHost.Ip("-n", nsA, "route"));
        Assert.Contains($"master {host.BridgeName}", NetworkTestHost.Ip("link", "show", JailNetwork.HostLinkName(jailA)));
        Ping(nsA, addressB);
        Ping(nsB, addressA);
        Ping(nsA, network.Config.Gateway);
        Ping(nsA, IPAddress.Loopback);
    }

    [Fact]
    public void DetachJail_RemovesTheHostVeth_AndFreesTheAddress()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string ns = host.AddNamespace("d");
        string jail = host.JailId("d");
        string hostLink = JailNetwork.HostLinkName(jail);
        var address = network.AttachJail(jail, NetworkTestHost.NamespacePath(ns));
        Assert.True(NetworkTestHost.HostLinkExists(hostLink));
        Assert.Equal(address, network.Addresses.Find(jail));

        network.DetachJail(jail);
        network.DetachJail(jail); // idempotent

        Assert.False(NetworkTestHost.HostLinkExists(hostLink));
        Assert.DoesNotContain("eth0", NetworkTestHost.Ip("-n", ns, "-br", "link"));
        Assert.Null(network.Addresses.Find(jail));
        Assert.Empty(Directory.GetFiles(Path.Combine(host.StateDirectory, host.BridgeName)));
        Assert.Equal(address, network.Addresses.Allocate(host.JailId("next")));
    }

    [Fact]
    public void AttachTap_PutsAPersistentTapOnTheBridge_AndDetachTapRemovesItAndFreesTheAddress()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string vm = host.JailId("vm");
        string tap = host.TrackLink(JailNetwork.TapName(vm));

        var (name, address) = network.AttachTap(vm);

        Assert.Equal(tap, name);
        Assert.True(host.Subnet.Contains(address));
        Assert.NotEqual(network.Config.Gateway, address);
        var details = NetworkTestHost.Ip("-d", "link", "show", tap);
        Assert.Contains($"master {host.BridgeName}", details);
        Assert.Contains("tun type tap", details);
        Assert.Contains("persist on", details);
        // The tap is up on the bridge; with nothing attached yet its carrier is off.
        Assert.Contains(",UP", details.Split('\n')[0]);

        network.DetachTap(vm);
        network.DetachTap(vm); // idempotent

        Assert.False(NetworkTestHost.HostLinkExists(tap));
        Assert.Null(network.Addresses.Find(vm));
    }

    [Fact]
    public void AttachingASecondTime_FailsNamingTheVeth_AndKeepsTheFirstAttachment()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string ns = host.AddNamespace("twice");
        string jail = host.JailId("t");
        string hostLink = JailNetwork.HostLinkName(jail);
        network.AttachJail(jail, NetworkTestHost.NamespacePath(ns));

        var e = Assert.Throws<InitOs.Sys.SysException>(() => network.AttachJail(jail, NetworkTestHost.NamespacePath(ns)));

        Assert.Contains($"RTM_NEWLINK {hostLink}", e.Message);
        Assert.Equal(InitOs.Sys.Errno.EEXIST, e.Errno);
    }

    [Fact]
    public void AnAttachFailingHalfway_LeavesNoVethAndNoAddressBehind()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string ns = host.AddNamespace("f");
        string jail = host.JailId("f");
        // The jail already has a default route, so the last step (RTM_NEWROUTE) fails after the veth exists.
        NetworkTestHost.Ip("-n", ns, "link", "add", "x0", "type", "bridge");
        NetworkTestHost.Ip("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "x0");
        NetworkTestHost.Ip("-n", ns, "link", "set", "x0", "up");
        NetworkTestHost.Ip("-n", ns, "route", "add", "default", "via", "192.0.2.2");

        var e = Assert.Throws<InitOs.Sys.SysException>(() => network.AttachJail(jail, NetworkTestHost.NamespacePath(ns)));

        Assert.StartsWith("RTM_NEWROUTE default via", e.Message);
        Assert.False(NetworkTestHost.HostLinkExists(JailNetwork.HostLinkName(jail)));
        Assert.DoesNotContain("eth0", NetworkTestHost.Ip("-n", ns, "-br", "link"));
        Assert.Null(network.Addresses.Find(jail));
    }

    [Fact]
    public void AJailWhoseEth0IsTaken_FailsNamingTheVeth_AndFreesTheAddress()
    {
        using var host = new NetworkTestHost();
        var network = host.Network();
        string ns = host.AddNamespace("taken");
        string jail = host.JailId("taken");
        NetworkTestHost.Ip("-n", ns, "link", "add", "eth0", "type", "bridge");

        var e = Assert.Throws<InitOs.Sys.SysException>(() => network.AttachJail(jail, NetworkTestHost.NamespacePath(ns)));

        Assert.StartsWith($"RTM_NEWLINK {JailNetwork.HostLinkName(jail)} (veth peer eth0)", e.Message);
        Assert.Equal(InitOs.Sys.Errno.EEXIST, e.Errno);
        Assert.False(NetworkTestHost.HostLinkExists(JailNetwork.HostLinkName(jail)));
        Assert.Null(network.Addresses.Find(jail));
    }

    [Fact]
    public void NoneMode_OnlyLoopbackUp()
    {
        using var host = new NetworkTestHost();
        var network = host.Network(NetworkMode.None);
        string ns = host.AddNamespace("none");

        var address = network.AttachJail(host.JailId("n"), NetworkTestHost.NamespacePath(ns));

        Assert.Null(address);
        var links = NetworkTestHost.Ip("-n", ns, "-br", "link").Trim().Split('\n');
        Assert.Single(links);
        Assert.StartsWith("lo", links[0]);
        Assert.Contains("UP", links[0]);
        Assert.False(NetworkTestHost.HostLinkExists(host.BridgeName));
        Ping(ns, IPAddress.Loopback);
    }

    [Fact]
    public void HostMode_TouchesNothing()
    {
        using var host = new NetworkTestHost();
        var network = host.Network(NetworkMode.Host);
        string jail = host.JailId("host");

        Assert.Null(network.AttachJail(jail, null));
        network.EnsureBridge();
        network.DetachJail(jail);

        Assert.False(NetworkTestHost.HostLinkExists(host.BridgeName));
        Assert.False(NetworkTestHost.HostLinkExists(JailNetwork.HostLinkName(jail)));
    }

    [Fact]
    public void HostLinkName_IsShortStableAndPerJail()
    {
        string a = JailNetwork.HostLinkName("web-1");

        Assert.Equal(a, JailNetwork.HostLinkName("web-1"));
        Assert.NotEqual(a, JailNetwork.HostLinkName("web-2"));
        Assert.Matches("^vj[0-9a-f]{8}$", a);
        RtnlRequests.CheckName(a);
    }

    private static void Ping(string ns, IPAddress address)
    {
        if (!File.Exists("/usr/bin/ping") && !File.Exists("/bin/ping"))
        {
            Assert.Fail("ping is missing: install iputils-ping (scripts/install-prereqs.sh)");
        }
        NetworkTestHost.InNamespace(ns, "ping", "-c1", "-W2", address.ToString());
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace InitOs.Sys.Netlink;

/// <summary>
/// The rtnetlink requests InitOS sends, as messages not yet numbered: pure, so their byte
/// layout can be checked without root. <see cref="RouteNetlink"/> sends them. Links are named
/// by IFLA_IFNAME with ifi_index 0 wherever the kernel looks them up that way.
/// </summary>
public static class RtnlRequests
{
    private const ushort Create = Rtnl.Flags.Request | Rtnl.Flags.Ack | Rtnl.Flags.Create | Rtnl.Flags.Excl;
    private const ushort Change = Rtnl.Flags.Request | Rtnl.Flags.Ack;

    /// <summary>RTM_NEWLINK: a new bridge (IFLA_LINKINFO { IFLA_INFO_KIND "bridge" }).</summary>
    public static NetlinkMessageBuilder CreateBridge(string name) =>
        NewLink(Create, name)
            .BeginNested(Rtnl.Link.LinkInfo)
                .Attribute(Rtnl.LinkInfo.Kind, "bridge")
            .EndNested();

    /// <summary>
    /// RTM_NEWLINK: a veth pair. The peer is described by its own ifinfomsg and attributes inside
    /// IFLA_LINKINFO { IFLA_INFO_DATA { VETH_INFO_PEER } }, including the namespace it is born in.
    /// </summary>
    public static NetlinkMessageBuilder CreateVethPair(string name, string peerName, NetworkNamespaceTarget? peerNamespace)
    {
        CheckName(peerName);
        var message = NewLink(Create, name)
            .BeginNested(Rtnl.Link.LinkInfo)
                .Attribute(Rtnl.LinkInfo.Kind, "veth")
                .BeginNested(Rtnl.LinkInfo.Data)
                    .BeginNested(Rtnl.Veth.Peer)
                        .InterfaceInfo()
                        .Attribute(Rtnl.Link.IfName, peerName);
        peerNamespace?.AppendTo(message);
        return message.EndNested().EndNested().EndNested();
    }

    /// <summary>RTM_NEWLINK: IFF_UP set or cleared (ifi_change says which flag to touch).</summary>
    public static NetlinkMessageBuilder SetUp(string name, bool up) =>
        NewLink(Change, name, flags: up ? Rtnl.InterfaceUp : 0, change: Rtnl.InterfaceUp);

    /// <summary>RTM_NEWLINK: IFLA_MASTER, e.g. a bridge port.</summary>
    public static NetlinkMessageBuilder SetMaster(string name, int masterIndex) =>
        NewLink(Change, name).Attribute(Rtnl.Link.Master, (uint)masterIndex);

    /// <summary>RTM_NEWLINK by index with a new IFLA_IFNAME.</summary>
    public static NetlinkMessageBuilder Rename(int index, string newName)
    {
        CheckName(newName);
        return new NetlinkMessageBuilder(Rtnl.MessageType.NewLink, Change)
            .InterfaceInfo(index)
            .Attribute(Rtnl.Link.IfName, newName);
    }

    /// <summary>RTM_NEWLINK: IFLA_NET_NS_FD or IFLA_NET_NS_PID.</summary>
    public static NetlinkMessageBuilder MoveToNamespace(string name, NetworkNamespaceTarget target)
    {
        var message = NewLink(Change, name);
        target.AppendTo(message);
        return message;
    }

    public static NetlinkMessageBuilder DeleteLink(string name) => Named(Rtnl.MessageType.DeleteLink, Change, name);

    /// <summary>RTM_GETLINK for one link; the reply is an RTM_NEWLINK message.</summary>
    public static NetlinkMessageBuilder GetLink(string name) => Named(Rtnl.MessageType.GetLink, Change, name);

    /// <summary>
    /// RTM_NEWADDR: IFA_LOCAL is the interface's own address; on a link that is not
    /// point-to-point IFA_ADDRESS is the same.
    /// </summary>
    public static NetlinkMessageBuilder AddIPv4Address(int index, IPAddress address, int prefixLength)
    {
        var bytes = IPv4Bytes(address);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new NetlinkMessageBuilder(Rtnl.MessageType.NewAddress, Create)
            .AddressInfo(Rtnl.FamilyInet, (byte)prefixLength, index)
            .Attribute(Rtnl.InterfaceAddress.Local, bytes)
            .Attribute(Rtnl.InterfaceAddress.Address, bytes);
    }

    /// <summary>RTM_NEWROUTE: 0.0.0.0/0 via a gateway out of a link, main table.</summary>
    public static NetlinkMessageBuilder AddDefaultRoute(IPAddress gateway, int outIndex) =>
        new NetlinkMessageBuilder(Rtnl.MessageType.NewRoute, Create)
            .RouteInfo(Rtnl.FamilyInet, destinationLength: 0, Rtnl.RouteTableMain, Rtnl.RouteProtocolStatic, Rtnl.ScopeUniverse, Rtnl.RouteTypeUnicast)
            .Attribute(Rtnl.Route.Gateway, IPv4Bytes(gateway))
            .Attribute(Rtnl.Route.Oif, (uint)outIndex);

    /// <summary>Throws unless the kernel could take the name: 1-15 bytes, no '/' and no white space.</summary>
    public static void CheckName(string name)
    {
        int length = Encoding.UTF8.GetByteCount(name);
        if (length == 0 || length > Rtnl.MaxInterfaceNameLength || name.Contains('/') || name.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"'{name}' is not a valid interface name (1-{Rtnl.MaxInterfaceNameLength} bytes, no '/' or spaces)", nameof(name));
        }
    }

    private static NetlinkMessageBuilder NewLink(ushort requestFlags, string name, uint flags = 0, uint change = 0)
    {
        CheckName(name);
        return new NetlinkMessageBuilder(Rtnl.MessageType.NewLink, requestFlags)
            .InterfaceInfo(flags: flags, change: change)
            .Attribute(Rtnl.Link.IfName, name);
    }

    private static NetlinkMessageBuilder Named(ushort type, ushort requestFlags, string name)
    {
        CheckName(name);
        return new NetlinkMessageBuilder(type, requestFlags)
            .InterfaceInfo()
            .Attribute(Rtnl.Link.IfName, name);
    }

    private static byte[] IPv4Bytes(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? address.GetAddressBytes()
            : throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
}

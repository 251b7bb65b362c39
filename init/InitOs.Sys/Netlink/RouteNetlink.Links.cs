using System.Buffers.Binary;
using System.Net;

namespace InitOs.Sys.Netlink;

// The operations: each sends one request from RtnlRequests and waits for its ack. Where the
// kernel needs an ifindex (master, rename, addresses, routes) it is looked up first.
public sealed partial class RouteNetlink
{
    private const int InterfaceIndexOffset = Rtnl.HeaderSize + 4;

    /// <summary>A new Linux bridge, down. EEXIST when the name is taken.</summary>
    public void CreateBridge(string name) =>
        Request(RtnlRequests.CreateBridge(name), $"RTM_NEWLINK {name}");

    /// <summary>A veth pair, both ends down, both in this namespace.</summary>
    public void CreateVethPair(string name, string peerName) => CreateVethPair(name, peerName, null);

    /// <summary>A veth pair whose peer is created directly inside another network namespace.</summary>
    public void CreateVethPair(string name, string peerName, NetworkNamespaceTarget? peerNamespace) =>
        Request(RtnlRequests.CreateVethPair(name, peerName, peerNamespace), $"RTM_NEWLINK {name} (veth peer {peerName})");

    public void SetUp(string name) =>
        Request(RtnlRequests.SetUp(name, up: true), $"RTM_NEWLINK {name} up");

    public void SetDown(string name) =>
        Request(RtnlRequests.SetUp(name, up: false), $"RTM_NEWLINK {name} down");

    /// <summary>Makes the link a port of a bridge (IFLA_MASTER).</summary>
    public void SetMaster(string name, string masterName) =>
        Request(RtnlRequests.SetMaster(name, GetLinkIndex(masterName)), $"RTM_NEWLINK {name} master {masterName}");

    /// <summary>Renames a link. Kernels before 6.2 refuse (EBUSY) while it is up; newer ones allow it.</summary>
    public void Rename(string name, string newName) =>
        Request(RtnlRequests.Rename(GetLinkIndex(name), newName), $"RTM_NEWLINK {name} rename to {newName}");

    /// <summary>Moves a link into another network namespace; it disappears from this one.</summary>
    public void MoveToNamespace(string name, NetworkNamespaceTarget target) =>
        Request(RtnlRequests.MoveToNamespace(name, target), $"RTM_NEWLINK {name} to {target}");

    /// <summary>Deletes a link (a veth takes its peer with it). ENODEV when it does not exist.</summary>
    public void DeleteLink(string name) =>
        Request(RtnlRequests.DeleteLink(name), $"RTM_DELLINK {name}");

    /// <summary>Adds address/prefixLength to a link. EEXIST when it is already there.</summary>
    public void AddIPv4Address(string name, IPAddress address, int prefixLength) =>
        Request(RtnlRequests.AddIPv4Address(GetLinkIndex(name), address, prefixLength), $"RTM_NEWADDR {name} {address}/{prefixLength}");

    /// <summary>The default IPv4 route via a gateway reached over the named link.</summary>
    public void AddDefaultRoute(IPAddress gateway, string outLinkName) =>
        Request(RtnlRequests.AddDefaultRoute(gateway, GetLinkIndex(outLinkName)), $"RTM_NEWROUTE default via {gateway} dev {outLinkName}");

    /// <summary>The ifindex of a link in this socket's namespace; ENODEV when there is none.</summary>
    public int GetLinkIndex(string name) =>
        TryGetLinkIndex(name) ?? throw new SysException($"RTM_GETLINK {name}", Errno.ENODEV);

    public int? TryGetLinkIndex(string name)
    {
        try
        {
            var reply = Request(RtnlRequests.GetLink(name), $"RTM_GETLINK {name}");
            if (reply is null || reply.Length < InterfaceIndexOffset + 4)
            {
                throw new SysException($"RTM_GETLINK {name}: the kernel acknowledged without describing the link");
            }
            return BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(InterfaceIndexOffset));
        }
        catch (SysException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    public bool LinkExists(string name) => TryGetLinkIndex(name) is not null;
}

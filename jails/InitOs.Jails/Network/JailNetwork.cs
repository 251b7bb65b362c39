using System.Net;
using System.Text;
using InitOs.Sys;
using InitOs.Sys.Netlink;

namespace InitOs.Jails.Network;

/// <summary>
/// Puts jails on the network as <see cref="JailNetworkConfig"/> says, over rtnetlink only.
/// Bridge mode: one host bridge holding the gateway address, and per jail a veth pair whose
/// host end (vj + hash of the jail id) is a bridge port and whose other end is eth0 inside
/// the jail's network namespace, with an address from the subnet and a default route via the
/// gateway. Host-side calls act in the calling thread's network namespace.
/// </summary>
public sealed class JailNetwork
{
    public const string JailLinkName = "eth0";
    private const string Loopback = "lo";

    private readonly JailAddressAllocator _addresses;

    /// <param name="stateDirectory">Where address allocations are recorded, e.g. /run/initos/net.</param>
    public JailNetwork(JailNetworkConfig config, string stateDirectory)
    {
        config.Validate();
        Config = config;
        _addresses = new JailAddressAllocator(Path.Combine(stateDirectory, config.BridgeName), config.Subnet);
    }

    public JailNetworkConfig Config { get; }

    public JailAddressAllocator Addresses => _addresses;

    /// <summary>
    /// The host end of a jail's veth: "vj" and the 8 hex digits of FNV-1a(jail id), within
    /// IFNAMSIZ. Not a cryptographic hash: SHA-256 would need OpenSSL's libcrypto, which the
    /// initramfs does not carry; a collision only fails the second jail's start, by name.
    /// </summary>
    public static string HostLinkName(string jailId)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(jailId))
        {
            hash = (hash ^ b) * 16777619;
        }
        return "vj" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Creates the bridge with the gateway address if missing, and brings it up. Safe to call
    /// again and from two processes at once: an existing bridge or address is accepted.
    /// </summary>
    public void EnsureBridge()
    {
        if (Config.Mode != NetworkMode.Bridge)
        {
            return;
        }
        using var host = RouteNetlink.Open();
        IgnoreExisting(() => host.CreateBridge(Config.BridgeName));
        IgnoreExisting(() => host.AddIPv4Address(Config.BridgeName, Config.Gateway, Config.PrefixLength));
        host.SetUp(Config.BridgeName);
    }

    /// <summary>
    /// Connects a jail whose network namespace is at <paramref name="networkNamespacePath"/>
    /// (/proc/PID/ns/net or a bind mount of it). Returns the jail's address in bridge mode,
    /// null in none mode (only lo comes up) and host mode (nothing to do, no namespace needed).
    /// On failure everything done so far is undone.
    /// </summary>
    public IPAddress? AttachJail(string jailId, string? networkNamespacePath)
    {
        if (Config.Mode == NetworkMode.Host)
        {
            return null;
        }
        ArgumentException.ThrowIfNullOrEmpty(networkNamespacePath);
        int namespaceFd = Files.Open(networkNamespacePath, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            if (Config.Mode == NetworkMode.None)
            {
                using var jail = RouteNetlink.OpenInNamespace(namespaceFd);
                jail.SetUp(Loopback);
                return null;
            }
            return AttachToBridge(jailId, namespaceFd);
        }
        finally
        {
            Files.Close(namespaceFd);
        }
    }

    /// <summary>Deletes the jail's host veth (its eth0 goes with it) and frees its address. Idempotent.</summary>
    public void DetachJail(string jailId)
    {
        if (Config.Mode != NetworkMode.Bridge)
        {
            return;
        }
        using (var host = RouteNetlink.Open())
        {
            DeleteIfPresent(host, HostLinkName(jailId));
        }
        _addresses.Release(jailId);
    }

    /// <summary>A VM jail's TAP device: "vt" and the same hash as its veth would have.</summary>
    public static string TapName(string jailId) => "vt" + HostLinkName(jailId)[2..];

    /// <summary>
    /// The host side of a VM jail's NIC: a persistent TAP device ("vt" + the jail id's hash)
    /// that is a port of the bridge, and the address the guest should take (it configures
    /// itself: a VM has no namespace to reach into). On failure nothing is left behind.
    /// </summary>
    public (string Tap, IPAddress Address) AttachTap(string jailId)
    {
        EnsureBridge();
        string tap = TapName(jailId);
        var address = _addresses.Allocate(jailId);
        using var host = RouteNetlink.Open();
        try
        {
            DeleteIfPresent(host, tap);
            Tap.CreatePersistent(tap);
            host.SetMaster(tap, Config.BridgeName);
            host.SetUp(tap);
            return (tap, address);
        }
        catch
        {
            DeleteIfPresent(host, tap);
            _addresses.Release(jailId);
            throw;
        }
    }

    /// <summary>Deletes the VM's TAP device and frees its address. Idempotent.</summary>
    public void DetachTap(string jailId)
    {
        using (var host = RouteNetlink.Open())
        {
            DeleteIfPresent(host, TapName(jailId));
        }
        _addresses.Release(jailId);
    }

    private IPAddress AttachToBridge(string jailId, int namespaceFd)
    {
        EnsureBridge();
        string hostLink = HostLinkName(jailId);
        var address = _addresses.Allocate(jailId);
        using var host = RouteNetlink.Open();
        bool created = false;
        try
        {
            // The peer is born inside the jail's namespace, already named eth0: it never
            // appears on the host under a temporary name, and eth0 only has to be free there.
            host.CreateVethPair(hostLink, JailLinkName, NetworkNamespaceTarget.ByFd(namespaceFd));
            created = true;
            host.SetMaster(hostLink, Config.BridgeName);
            host.SetUp(hostLink);
            using var jail = RouteNetlink.OpenInNamespace(namespaceFd);
            jail.SetUp(Loopback);
            jail.AddIPv4Address(JailLinkName, address, Config.PrefixLength);
            jail.SetUp(JailLinkName);
            jail.AddDefaultRoute(Config.Gateway, JailLinkName);
            return address;
        }
        catch
        {
            if (created)
            {
                DeleteIfPresent(host, hostLink);
            }
            _addresses.Release(jailId);
            throw;
        }
    }

    private static void DeleteIfPresent(RouteNetlink host, string link)
    {
        try
        {
            host.DeleteLink(link);
        }
        catch (SysException e) when (e.Errno == Errno.ENODEV)
        {
            // already gone, e.g. its namespace died and took the pair with it
        }
    }

    private static void IgnoreExisting(Action create)
    {
        try
        {
            create();
        }
        catch (SysException e) when (e.Errno == Errno.EEXIST)
        {
        }
    }
}

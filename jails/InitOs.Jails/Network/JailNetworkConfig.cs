using System.Net;
using System.Net.Sockets;

namespace InitOs.Jails.Network;

/// <summary>
/// How jails are networked. In bridge mode every jail gets an address from
/// <see cref="Subnet"/>; the first address of the subnet belongs to the bridge and is
/// the jails' default gateway.
/// </summary>
public sealed record JailNetworkConfig
{
    public const string DefaultBridgeName = "initos0";

    public NetworkMode Mode { get; init; } = NetworkMode.Bridge;

    public string BridgeName { get; init; } = DefaultBridgeName;

    public IPNetwork Subnet { get; init; } = IPNetwork.Parse("10.88.0.0/16");

    /// <summary>The jails' DNS servers; null takes them from the host (see <see cref="JailNetworkFiles"/>).</summary>
    public IReadOnlyList<IPAddress>? Nameservers { get; init; }

    /// <summary>The first address after the network address: the bridge's own.</summary>
    public IPAddress Gateway => Ipv4.Add(Subnet.BaseAddress, 1);

    public int PrefixLength => Subnet.PrefixLength;

    /// <summary>Throws when the settings cannot work: an IPv6 or too small subnet, a bad bridge name.</summary>
    public void Validate()
    {
        if (Subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"jail subnet {Subnet}: only IPv4 is supported");
        }
        if (Subnet.PrefixLength is < 8 or > 30)
        {
            throw new ArgumentException($"jail subnet {Subnet}: the prefix length must be 8 to 30 (room for a gateway and a jail)");
        }
        if (BridgeName.Length is 0 or > 15 || BridgeName.Contains('/') || BridgeName.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"bridge name '{BridgeName}': 1-15 characters, no '/' or spaces");
        }
    }
}

using System.Net;
using InitOs.Sys;

namespace InitOs.Init.Network;

/// <summary>What the DHCP server gave: the address and what goes with it.</summary>
public sealed record DhcpLease(IPAddress Address, int PrefixLength, IPAddress? Gateway, IReadOnlyList<IPAddress> Dns, IPAddress Server, TimeSpan Lease, string? Hostname);

/// <summary>
/// A DHCPv4 client for bring-up: DISCOVER, OFFER, REQUEST, ACK over a UDP socket bound to the
/// interface, broadcast both ways, retried with a doubling timeout until the deadline.
/// A NAK starts over. Written for the project (no dhclient/udhcpc in the initramfs).
/// </summary>
public sealed class DhcpClient(string interfaceName, byte[] mac)
{
    public DhcpLease Acquire(TimeSpan budget)
    {
        var deadline = DateTime.UtcNow + budget;
        using var socket = UdpSocket.OpenOnInterface(interfaceName, DhcpMessage.ClientPort);
        var wait = TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < deadline)
        {
            uint xid = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
            var offer = Exchange(socket, DhcpMessage.Discover(xid, mac), xid, DhcpType.Offer, Until(deadline, wait));
            var server = offer?.Address(DhcpMessage.OptionServerId);
            if (offer is null || server is null)
            {
                wait = Next(wait);
                continue;
            }
            var answer = Exchange(socket, DhcpMessage.Request(xid, mac, offer.YourAddress, server), xid, DhcpType.Ack, Until(deadline, wait));
            if (answer is { Type: DhcpType.Ack })
            {
                return LeaseFrom(answer, server);
            }
            wait = Next(wait);
        }
        throw new InvalidOperationException($"no DHCP lease on {interfaceName} within {budget.TotalSeconds:F0} s");
    }

    /// <summary>Sends, then waits for the reply of <paramref name="expected"/> type (or a NAK) to this transaction.</summary>
    private static DhcpMessage? Exchange(UdpSocket socket, DhcpMessage request, uint xid, DhcpType expected, DateTime until)
    {
        socket.SendTo(request.Encode(), IPAddress.Broadcast, DhcpMessage.ServerPort);
        while (DateTime.UtcNow < until)
        {
            var data = socket.Receive(until - DateTime.UtcNow);
            if (data is not null && DhcpMessage.Parse(data) is { } reply && reply.TransactionId == xid && (reply.Type == expected || reply.Type == DhcpType.Nak))
            {
                return reply.Type == DhcpType.Nak ? null : reply;
            }
        }
        return null;
    }

    private static DhcpLease LeaseFrom(DhcpMessage ack, IPAddress server)
    {
        var mask = ack.Address(DhcpMessage.OptionSubnetMask);
        int prefix = mask is null ? 24 : System.Numerics.BitOperations.PopCount(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes()));
        var hostname = ack.Options.TryGetValue(DhcpMessage.OptionHostname, out var h) ? System.Text.Encoding.ASCII.GetString(h).TrimEnd('\0') : null;
        var routers = ack.Addresses(DhcpMessage.OptionRouter);
        return new DhcpLease(ack.YourAddress, prefix, routers.Count > 0 ? routers[0] : null, ack.Addresses(DhcpMessage.OptionDns), server,
            TimeSpan.FromSeconds(ack.Seconds(DhcpMessage.OptionLeaseTime) ?? 0), hostname);
    }

    private static DateTime Until(DateTime deadline, TimeSpan wait) => DateTime.UtcNow + wait < deadline ? DateTime.UtcNow + wait : deadline;

    private static TimeSpan Next(TimeSpan wait) => wait < TimeSpan.FromSeconds(8) ? wait * 2 : wait;
}

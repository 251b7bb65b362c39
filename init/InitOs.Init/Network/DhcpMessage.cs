using System.Buffers.Binary;
using System.Net;

namespace InitOs.Init.Network;

/// <summary>DHCPv4 message types (option 53).</summary>
public enum DhcpType : byte
{
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
}

/// <summary>
/// A DHCPv4 (RFC 2131/2132) message: the BOOTP header fields a client uses and its options.
/// Encode builds what the client sends; Parse reads what a server answers, refusing anything
/// that is not a well-formed BOOTREPLY.
/// </summary>
public sealed record DhcpMessage
{
    public const int ClientPort = 68, ServerPort = 67;
    public const byte OptionSubnetMask = 1, OptionRouter = 3, OptionDns = 6, OptionHostname = 12, OptionRequestedAddress = 50,
        OptionLeaseTime = 51, OptionMessageType = 53, OptionServerId = 54, OptionParameterList = 55, OptionClientId = 61, OptionEnd = 255;
    private const int HeaderLength = 236;
    private static readonly byte[] MagicCookie = [99, 130, 83, 99];

    public required DhcpType Type { get; init; }
    public required uint TransactionId { get; init; }
    public required byte[] ClientHardwareAddress { get; init; }
    public IPAddress YourAddress { get; init; } = IPAddress.Any;
    public IReadOnlyDictionary<byte, byte[]> Options { get; init; } = new Dictionary<byte, byte[]>();

    public static DhcpMessage Discover(uint xid, byte[] mac) => new()
    {
        Type = DhcpType.Discover, TransactionId = xid, ClientHardwareAddress = mac,
        Options = new Dictionary<byte, byte[]> { [OptionClientId] = [1, .. mac], [OptionParameterList] = [OptionSubnetMask, OptionRouter, OptionDns, OptionHostname, OptionLeaseTime] },
    };

    public static DhcpMessage Request(uint xid, byte[] mac, IPAddress offered, IPAddress server) => new()
    {
        Type = DhcpType.Request, TransactionId = xid, ClientHardwareAddress = mac,
        Options = new Dictionary<byte, byte[]>
        {
            [OptionClientId] = [1, .. mac], [OptionRequestedAddress] = offered.GetAddressBytes(), [OptionServerId] = server.GetAddressBytes(),
            [OptionParameterList] = [OptionSubnetMask, OptionRouter, OptionDns, OptionHostname, OptionLeaseTime],
        },
    };

    public byte[] Encode()
    {
        var options = Options.Where(o => o.Key != OptionMessageType).SelectMany(o => (byte[])[o.Key, (byte)o.Value.Length, .. o.Value]);
        byte[] message = [.. new byte[HeaderLength], .. MagicCookie, OptionMessageType, 1, (byte)Type, .. options, OptionEnd];
        var span = message.AsSpan();
        span[0] = 1; // BOOTREQUEST
        span[1] = 1; // Ethernet
        span[2] = 6; // hardware address length
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 0x8000); // broadcast: the client has no address to be answered at
        ClientHardwareAddress.CopyTo(span[28..]);
        return message;
    }

    /// <summary>A server's reply, or null when the bytes are not one (wrong op, too short, no cookie, no type).</summary>
    public static DhcpMessage? Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + 4 || data[0] != 2 || !data.Slice(HeaderLength, 4).SequenceEqual(MagicCookie))
        {
            return null;
        }
        var options = new Dictionary<byte, byte[]>();
        for (int i = HeaderLength + 4; i < data.Length && data[i] != OptionEnd;)
        {
            if (data[i] == 0)
            {
                i++;
                continue;
            }
            if (i + 1 >= data.Length || i + 2 + data[i + 1] > data.Length)
            {
                return null;
            }
            options[data[i]] = data.Slice(i + 2, data[i + 1]).ToArray();
            i += 2 + data[i + 1];
        }
        if (!options.TryGetValue(OptionMessageType, out var type) || type.Length != 1)
        {
            return null;
        }
        return new DhcpMessage
        {
            Type = (DhcpType)type[0],
            TransactionId = BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
            ClientHardwareAddress = data.Slice(28, data[2] is > 0 and <= 16 ? data[2] : 6).ToArray(),
            YourAddress = new IPAddress(data.Slice(16, 4)),
            Options = options,
        };
    }

    public IPAddress? Address(byte option) =>
        Options.TryGetValue(option, out var v) && v.Length >= 4 ? new IPAddress(v.AsSpan(0, 4)) : null;

    public IReadOnlyList<IPAddress> Addresses(byte option) =>
        Options.TryGetValue(option, out var v) ? Enumerable.Range(0, v.Length / 4).Select(i => new IPAddress(v.AsSpan(i * 4, 4))).ToList() : [];

    public uint? Seconds(byte option) =>
        Options.TryGetValue(option, out var v) && v.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(v) : null;
}

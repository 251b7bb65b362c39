using System.Buffers.Binary;
using System.Net;

namespace InitOs.Jails.Network;

/// <summary>IPv4 addresses as 32-bit numbers, for walking a subnet.</summary>
internal static class Ipv4
{
    public static uint ToNumber(IPAddress address) =>
        BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    public static IPAddress FromNumber(uint number)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, number);
        return new IPAddress(bytes);
    }

    public static IPAddress Add(IPAddress address, uint offset) => FromNumber(ToNumber(address) + offset);

    /// <summary>The last address of the subnet (broadcast).</summary>
    public static uint Broadcast(IPNetwork subnet) =>
        ToNumber(subnet.BaseAddress) | (uint)((1UL << (32 - subnet.PrefixLength)) - 1);
}

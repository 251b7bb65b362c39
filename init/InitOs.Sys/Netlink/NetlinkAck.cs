using System.Buffers.Binary;
using System.Text;

namespace InitOs.Sys.Netlink;

/// <summary>
/// Reads an NLMSG_ERROR message: a negative errno (0 = success), the echoed request header,
/// and with NETLINK_EXT_ACK the kernel's own sentence about what it refused.
/// </summary>
internal static class NetlinkAck
{
    private const int ErrorOffset = Rtnl.HeaderSize;
    private const int EchoedHeaderOffset = ErrorOffset + 4;

    /// <summary>The errno carried by the ack, positive (0 when the request succeeded).</summary>
    public static int ErrorNumber(ReadOnlySpan<byte> message) =>
        -BinaryPrimitives.ReadInt32LittleEndian(message[ErrorOffset..]);

    /// <summary>NLMSGERR_ATTR_MSG when the kernel sent one.</summary>
    public static string? KernelMessage(ReadOnlySpan<byte> message)
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
        if ((flags & Rtnl.Flags.AckTlvs) == 0 || message.Length < EchoedHeaderOffset + Rtnl.HeaderSize)
        {
            return null;
        }
        int echoedLength = (flags & Rtnl.Flags.Capped) != 0
            ? Rtnl.HeaderSize
            : (int)BinaryPrimitives.ReadUInt32LittleEndian(message[EchoedHeaderOffset..]);
        int offset = Rtnl.Align(EchoedHeaderOffset + echoedLength);
        while (offset + Rtnl.AttributeHeaderSize <= message.Length)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(message[offset..]);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[(offset + 2)..]);
            if (length < Rtnl.AttributeHeaderSize || offset + length > message.Length)
            {
                break;
            }
            if (type == Rtnl.ErrorAttribute.Message)
            {
                var text = message.Slice(offset + Rtnl.AttributeHeaderSize, length - Rtnl.AttributeHeaderSize);
                int nul = text.IndexOf((byte)0);
                return Encoding.UTF8.GetString(nul >= 0 ? text[..nul] : text);
            }
            offset += Rtnl.Align(length);
        }
        return null;
    }
}

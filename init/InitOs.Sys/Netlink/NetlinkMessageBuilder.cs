using System.Buffers.Binary;
using System.Text;

namespace InitOs.Sys.Netlink;

/// <summary>
/// Builds one netlink request: nlmsghdr, a fixed family header (ifinfomsg, ifaddrmsg or rtmsg),
/// then rtattrs, possibly nested. Every attribute starts 4-byte aligned; rta_len counts the
/// header and the payload but not the padding, while a nested attribute's rta_len covers its
/// children with their padding. nlmsg_len and the sequence number are filled in by <see cref="Build"/>.
/// </summary>
public sealed class NetlinkMessageBuilder
{
    private byte[] _buffer = new byte[256];
    private int _length;
    private readonly Stack<int> _openNests = new();

    public NetlinkMessageBuilder(ushort type, ushort flags)
    {
        var header = Reserve(Rtnl.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
    }

    /// <summary>struct ifinfomsg (16 bytes): family, pad, type, index, flags, change.</summary>
    public NetlinkMessageBuilder InterfaceInfo(int index = 0, uint flags = 0, uint change = 0, byte family = Rtnl.FamilyUnspecified)
    {
        var info = Reserve(16);
        info[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(info[12..], change);
        return this;
    }

    /// <summary>struct ifaddrmsg (8 bytes): family, prefixlen, flags, scope, index.</summary>
    public NetlinkMessageBuilder AddressInfo(byte family, byte prefixLength, int index, byte scope = Rtnl.ScopeUniverse)
    {
        var info = Reserve(8);
        info[0] = family;
        info[1] = prefixLength;
        info[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], index);
        return this;
    }

    /// <summary>struct rtmsg (12 bytes): family, dst_len, src_len, tos, table, protocol, scope, type, flags.</summary>
    public NetlinkMessageBuilder RouteInfo(byte family, byte destinationLength, byte table, byte protocol, byte scope, byte type)
    {
        var info = Reserve(12);
        info[0] = family;
        info[1] = destinationLength;
        info[4] = table;
        info[5] = protocol;
        info[6] = scope;
        info[7] = type;
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var attribute = Reserve(Rtnl.Align(Rtnl.AttributeHeaderSize + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, checked((ushort)(Rtnl.AttributeHeaderSize + payload.Length)));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], type);
        payload.CopyTo(attribute[Rtnl.AttributeHeaderSize..]);
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, uint value)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, value);
        return Attribute(type, payload);
    }

    /// <summary>A C string attribute: UTF-8 with its terminating NUL.</summary>
    public NetlinkMessageBuilder Attribute(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attribute(type, bytes);
    }

    /// <summary>Opens a nested attribute; everything until the matching <see cref="EndNested"/> goes inside it.</summary>
    public NetlinkMessageBuilder BeginNested(ushort type)
    {
        _openNests.Push(_length);
        var header = Reserve(Rtnl.AttributeHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        return this;
    }

    public NetlinkMessageBuilder EndNested()
    {
        if (!_openNests.TryPop(out int start))
        {
            throw new InvalidOperationException("EndNested without BeginNested");
        }
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));
        return this;
    }

    /// <summary>The finished message with nlmsg_len and nlmsg_seq set (nlmsg_pid 0: the kernel fills it in).</summary>
    public byte[] Build(uint sequence = 0)
    {
        if (_openNests.Count != 0)
        {
            throw new InvalidOperationException("a nested attribute is still open");
        }
        var message = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)_length);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], sequence);
        return message.ToArray();
    }

    /// <summary>Appends zeroed, aligned space and returns it.</summary>
    private Span<byte> Reserve(int size)
    {
        int aligned = Rtnl.Align(size);
        if (_length + aligned > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + aligned));
        }
        var space = _buffer.AsSpan(_length, aligned);
        space.Clear();
        _length += aligned;
        return space[..size];
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket that sends one request at a time and waits for its ack, so each
/// call either did what it says or throws a <see cref="SysException"/> naming the request
/// and the link ("RTM_NEWLINK veth0: File exists"). The socket acts in the network
/// namespace it was created in, whatever thread later uses it. Not thread-safe.
/// </summary>
public sealed partial class RouteNetlink : IDisposable
{
    private const int NetlinkRoute = 0;
    private const int ReceiveBufferSize = 64 * 1024;

    private int _fd;
    private uint _sequence;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];

    private RouteNetlink(int fd)
    {
        _fd = fd;
        EnableOption(Rtnl.OptionCapAck);
        EnableOption(Rtnl.OptionExtAck);
    }

    /// <summary>A socket in the calling thread's network namespace.</summary>
    public static RouteNetlink Open()
    {
        int fd = Libc.Socket(Libc.AfNetlink, Libc.SockRaw | Libc.SockCloexec, NetlinkRoute);
        return fd >= 0 ? new RouteNetlink(fd) : throw SysException.FromLastError("socket(AF_NETLINK, NETLINK_ROUTE)");
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Files.Close(_fd);
            _fd = -1;
        }
    }

    /// <summary>
    /// Sends the request with NLM_F_ACK and reads until its ack. Returns the reply message the
    /// kernel sent before the ack (RTM_GETLINK), or null; throws when the ack carries an error.
    /// </summary>
    internal byte[]? Request(NetlinkMessageBuilder request, string operation)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        uint sequence = ++_sequence;
        Send(request.Build(sequence), operation);
        byte[]? reply = null;
        while (true)
        {
            int received = Receive(operation);
            int offset = 0;
            while (offset + Rtnl.HeaderSize <= received)
            {
                var message = _receiveBuffer.AsSpan(offset, received - offset);
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(message);
                if (length < Rtnl.HeaderSize || length > message.Length)
                {
                    throw new SysException($"{operation}: malformed or truncated netlink reply");
                }
                message = message[..length];
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
                uint messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
                offset += Rtnl.Align(length);
                if (messageSequence != sequence)
                {
                    continue; // a late reply to an earlier request
                }
                if (type == Rtnl.MessageType.Error)
                {
                    ThrowIfError(message, operation);
                    return reply;
                }
                if (type == Rtnl.MessageType.Done)
                {
                    return reply;
                }
                reply ??= message.ToArray();
            }
        }
    }

    private static void ThrowIfError(ReadOnlySpan<byte> ack, string operation)
    {
        int errno = NetlinkAck.ErrorNumber(ack);
        if (errno != 0)
        {
            string? why = NetlinkAck.KernelMessage(ack);
            throw new SysException(why is null ? operation : $"{operation} ({why})", (Errno)errno);
        }
    }

    private unsafe void Send(byte[] message, string operation)
    {
        fixed (byte* start = message)
        {
            while (true)
            {
                nint sent = Libc.Send(_fd, start, (nuint)message.Length, 0);
                if (sent == message.Length)
                {
                    return;
                }
                if (sent < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }
                throw sent < 0 ? SysException.FromLastError($"{operation}: send") : new SysException($"{operation}: short send");
            }
        }
    }

    private unsafe int Receive(string operation)
    {
        fixed (byte* start = _receiveBuffer)
        {
            while (true)
            {
                nint received = Libc.Recv(_fd, start, (nuint)_receiveBuffer.Length, 0);
                if (received >= 0)
                {
                    return (int)received;
                }
                if ((Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw SysException.FromLastError($"{operation}: recv");
                }
            }
        }
    }

    /// <summary>Best effort: older kernels without the option still give plain errno acks.</summary>
    private unsafe void EnableOption(int option)
    {
        int on = 1;
        _ = Libc.SetSockOpt(_fd, Libc.SolNetlink, option, &on, sizeof(int));
    }
}

using System.Buffers.Binary;
using System.Net;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// An outgoing IPv4 TCP connection with timeouts, for the upgrade judge's probes: connect, send,
/// receive, by the kernel's calls (the box carries no System.Net.Sockets for these few).
/// </summary>
public sealed class TcpConnection : IDisposable
{
    private int _fd;

    private TcpConnection(int fd) => _fd = fd;

    /// <summary>The socket (non-blocking), for TLS on top of it (<see cref="TlsConnection"/>).</summary>
    internal int Descriptor => _fd;

    /// <exception cref="SysException">Refused, unreachable, or no answer within <paramref name="timeout"/> (ETIMEDOUT).</exception>
    public static unsafe TcpConnection Connect(IPAddress address, int port, TimeSpan timeout)
    {
        var where = $"connect({address}:{port})";
        int fd = Libc.Socket(Libc.AfInet, Libc.SockStream | Libc.SockCloexec | Libc.SockNonblock, 0);
        if (fd < 0)
        {
            throw SysException.FromLastError("socket(AF_INET, SOCK_STREAM)");
        }
        var connection = new TcpConnection(fd);
        try
        {
            Span<byte> socketAddress = stackalloc byte[16];
            BinaryPrimitives.WriteUInt16LittleEndian(socketAddress, Libc.AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(socketAddress[2..], (ushort)port);
            address.MapToIPv4().GetAddressBytes().CopyTo(socketAddress[4..]);
            fixed (byte* pointer = socketAddress)
            {
                if (Libc.Connect(fd, pointer, 16) < 0 && (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EINPROGRESS)
                {
                    throw SysException.FromLastError(where);
                }
            }
            connection.Wait(Libc.PollOut, timeout, where);
            int error = 0;
            uint length = sizeof(int);
            if (Libc.GetSockOpt(fd, Libc.SolSocket, Libc.SoError, &error, &length) < 0)
            {
                throw SysException.FromLastError($"getsockopt(SO_ERROR) after {where}");
            }
            if (error != 0)
            {
                throw new SysException(where, (Errno)error);
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        if (!Files.WriteAll(_fd, bytes))
        {
            throw SysException.FromLastError("send");
        }
    }

    /// <summary>Up to buffer's length, waiting at most <paramref name="timeout"/> for the first byte; 0 at the end of the stream.</summary>
    public int Receive(byte[] buffer, TimeSpan timeout) => Receive(buffer.AsSpan(), timeout);

    /// <summary>Up to the span's length, waiting at most <paramref name="timeout"/> for the first byte; 0 at the end of the stream.</summary>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        Wait(Libc.PollIn, timeout, "receive");
        return Files.Read(_fd, buffer);
    }

    /// <summary>Until the socket is ready for <paramref name="events"/>; ETIMEDOUT after <paramref name="timeout"/>.</summary>
    internal unsafe void Wait(short events, TimeSpan timeout, string what)
    {
        var poll = new Libc.PollFd { Fd = _fd, Events = events };
        int ready = Libc.Poll(&poll, 1, (int)timeout.TotalMilliseconds);
        if (ready < 0)
        {
            throw SysException.FromLastError($"poll during {what}");
        }
        if (ready == 0)
        {
            throw new SysException(what, Errno.ETIMEDOUT);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Files.Close(_fd);
            _fd = -1;
        }
    }
}

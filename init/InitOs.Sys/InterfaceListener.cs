using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>A connection taken from an <see cref="InterfaceListener"/>: its fd (blocking, close-on-exec) and who called.</summary>
public readonly record struct AcceptedConnection(int Fd, IPAddress Peer);

/// <summary>
/// A TCP port that takes connections arriving on one network interface only: the socket is
/// bound to the device (SO_BINDTODEVICE) before bind, so the kernel matches it only to packets
/// that came in there, and a SYN from any other interface, to any of the host's addresses,
/// gets a reset as if nothing listened. IPv6 with IPv4 mapped in, or IPv4 alone when the
/// kernel has no IPv6.
/// </summary>
public sealed class InterfaceListener : IDisposable
{
    private const int Backlog = 16;

    public string Interface { get; }
    private readonly int _fd;

    private InterfaceListener(string interfaceName, int fd)
    {
        Interface = interfaceName;
        _fd = fd;
    }

    public static unsafe InterfaceListener Open(string interfaceName, int port)
    {
        const int flags = Libc.SockStream | Libc.SockCloexec | Libc.SockNonblock;
        bool inet6 = true;
        int fd = Libc.Socket(Libc.AfInet6, flags, 0);
        if (fd < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.EAFNOSUPPORT)
        {
            inet6 = false;
            fd = Libc.Socket(Libc.AfInet, flags, 0);
        }
        if (fd < 0)
        {
            throw SysException.FromLastError("socket(SOCK_STREAM)");
        }
        var listener = new InterfaceListener(interfaceName, fd);
        try
        {
            int one = 1, zero = 0;
            Check(Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoReuseAddr, &one, sizeof(int)), "SO_REUSEADDR");
            if (inet6)
            {
                Check(Libc.SetSockOpt(fd, Libc.IpprotoIpv6, Libc.Ipv6V6Only, &zero, sizeof(int)), "IPV6_V6ONLY");
            }
            var name = System.Text.Encoding.ASCII.GetBytes(interfaceName + "\0");
            fixed (byte* namePointer = name)
            {
                Check(Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoBindToDevice, namePointer, (uint)name.Length), $"SO_BINDTODEVICE {interfaceName}");
            }
            Span<byte> address = stackalloc byte[28];
            int length = WriteAnyAddress(address, port, inet6);
            fixed (byte* a = address)
            {
                Check(Libc.Bind(fd, a, (uint)length), $"bind(port {port} on {interfaceName})");
            }
            Check(Libc.Listen(fd, Backlog), $"listen(port {port} on {interfaceName})");
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>The next waiting connection, or null when none is (the socket does not block).</summary>
    public unsafe AcceptedConnection? Accept()
    {
        Span<byte> address = stackalloc byte[28];
        uint length = (uint)address.Length;
        int fd;
        fixed (byte* a = address)
        {
            do
            {
                fd = Libc.Accept4(_fd, a, &length, Libc.SockCloexec);
            }
            while (fd < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.EINTR);
        }
        if (fd >= 0)
        {
            return new AcceptedConnection(fd, PeerOf(address));
        }
        var errno = (Errno)Marshal.GetLastPInvokeError();
        return errno == Errno.EAGAIN ? null : throw new SysException($"accept on {Interface}", errno);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a connection on any of them; the ones that have one.</summary>
    public static unsafe IReadOnlyList<InterfaceListener> WaitForConnections(IReadOnlyList<InterfaceListener> listeners, TimeSpan timeout)
    {
        const short PollIn = 1;
        var polls = new Libc.PollFd[listeners.Count];
        for (int i = 0; i < polls.Length; i++)
        {
            polls[i] = new Libc.PollFd { Fd = listeners[i]._fd, Events = PollIn };
        }
        int ready;
        fixed (Libc.PollFd* p = polls)
        {
            ready = Libc.Poll(p, (nuint)polls.Length, (int)timeout.TotalMilliseconds);
        }
        if (ready < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
        {
            throw SysException.FromLastError("poll");
        }
        return ready <= 0 ? [] : listeners.Where((_, i) => (polls[i].ReturnedEvents & PollIn) != 0).ToList();
    }

    public void Dispose() => Files.Close(_fd);

    // struct sockaddr_in6 (family, port, flowinfo, ::, scope) or sockaddr_in (family, port, 0.0.0.0).
    private static int WriteAnyAddress(Span<byte> at, int port, bool inet6)
    {
        at.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(inet6 ? Libc.AfInet6 : Libc.AfInet));
        BinaryPrimitives.WriteUInt16BigEndian(at[2..], (ushort)port);
        return inet6 ? 28 : 16;
    }

    private static IPAddress PeerOf(ReadOnlySpan<byte> address)
    {
        var family = BinaryPrimitives.ReadUInt16LittleEndian(address);
        var peer = family == Libc.AfInet6 ? new IPAddress(address[8..24]) : new IPAddress(address[4..8]);
        return peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer;
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw SysException.FromLastError(what);
        }
    }
}

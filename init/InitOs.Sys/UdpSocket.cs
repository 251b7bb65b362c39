using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// An IPv4 UDP socket through the interop layer (PID 1 keeps System.Net.Sockets out of the
/// box): bound to one interface and port, allowed to broadcast; what a DHCP client needs
/// before the interface has an address.
/// </summary>
public sealed class UdpSocket : IDisposable
{
    private readonly int _fd;

    private UdpSocket(int fd) => _fd = fd;

    public static unsafe UdpSocket OpenOnInterface(string interfaceName, int port)
    {
        int fd = Libc.Socket(Libc.AfInet, Libc.SockDgram | Libc.SockCloexec, 0);
        if (fd < 0)
        {
            throw SysException.FromLastError("socket(AF_INET, SOCK_DGRAM)");
        }
        var socket = new UdpSocket(fd);
        try
        {
            int one = 1;
            Check(Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoReuseAddr, &one, sizeof(int)), "SO_REUSEADDR");
            Check(Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoBroadcast, &one, sizeof(int)), "SO_BROADCAST");
            var name = System.Text.Encoding.ASCII.GetBytes(interfaceName + "\0");
            fixed (byte* namePointer = name)
            {
                Check(Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoBindToDevice, namePointer, (uint)name.Length), $"SO_BINDTODEVICE {interfaceName}");
            }
            Span<byte> address = stackalloc byte[16];
            WriteAddress(address, IPAddress.Any, port);
            fixed (byte* a = address)
            {
                Check(Libc.Bind(fd, a, 16), $"bind(0.0.0.0:{port})");
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public unsafe void SendTo(ReadOnlySpan<byte> data, IPAddress destination, int port)
    {
        Span<byte> address = stackalloc byte[16];
        WriteAddress(address, destination, port);
        fixed (byte* d = data)
        fixed (byte* a = address)
        {
            if (Libc.SendTo(_fd, d, (nuint)data.Length, 0, a, 16) < 0)
            {
                throw SysException.FromLastError($"sendto({destination}:{port})");
            }
        }
    }

    /// <summary>One datagram, or null when nothing came within <paramref name="timeout"/>.</summary>
    public unsafe byte[]? Receive(TimeSpan timeout)
    {
        var poll = new Libc.PollFd { Fd = _fd, Events = 1 /* POLLIN */ };
        int ready = Libc.Poll(&poll, 1, (int)Math.Max(0, timeout.TotalMilliseconds));
        if (ready < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
        {
            throw SysException.FromLastError("poll");
        }
        if (ready <= 0)
        {
            return null;
        }
        var buffer = new byte[1500];
        fixed (byte* b = buffer)
        {
            nint n = Libc.Recv(_fd, b, (nuint)buffer.Length, 0);
            if (n < 0)
            {
                throw SysException.FromLastError("recv");
            }
            return buffer[..(int)n];
        }
    }

    public void Dispose() => Files.Close(_fd);

    /// <summary>struct sockaddr_in: family, port (network order), address, zero padding.</summary>
    private static void WriteAddress(Span<byte> at, IPAddress address, int port)
    {
        at.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(at, Libc.AfInet);
        BinaryPrimitives.WriteUInt16BigEndian(at[2..], (ushort)port);
        address.TryWriteBytes(at[4..8], out _);
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw SysException.FromLastError(what);
        }
    }
}

using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys.Netlink;

/// <summary>
/// The kernel's device events (NETLINK_KOBJECT_UEVENT, the multicast group udev and mdev
/// read): "add@/devices/…" followed by KEY=VALUE fields (ACTION, DEVPATH, SUBSYSTEM, MODALIAS …).
/// Only the kernel sends on group 1, and the socket keeps only messages from port 0 (the kernel).
/// </summary>
public sealed class UeventSocket : IDisposable
{
    private const int NetlinkKobjectUevent = 15;
    private const int KernelGroup = 1;
    private const int ReceiveBuffer = 1 << 20;
    private int _fd;

    private UeventSocket(int fd) => _fd = fd;

    public static unsafe UeventSocket Open()
    {
        int fd = Libc.Socket(Libc.AfNetlink, Libc.SockDgram | Libc.SockCloexec, NetlinkKobjectUevent);
        if (fd < 0)
        {
            throw SysException.FromLastError("socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)");
        }
        var socket = new UeventSocket(fd);
        // struct sockaddr_nl: family, pad, pid (0: the kernel picks), groups.
        var address = new byte[12];
        BitConverter.TryWriteBytes(address.AsSpan(0), (ushort)Libc.AfNetlink);
        BitConverter.TryWriteBytes(address.AsSpan(8), (uint)KernelGroup);
        int size = ReceiveBuffer;
        fixed (byte* a = address)
        {
            // A burst of events (a USB hub with its devices) must not overflow the queue; SO_RCVBUF is a hint.
            _ = Libc.SetSockOpt(fd, Libc.SolSocket, Libc.SoRcvBuf, &size, sizeof(int));
            if (Libc.Bind(fd, a, (uint)address.Length) != 0)
            {
                var e = SysException.FromLastError("bind(NETLINK_KOBJECT_UEVENT group 1)");
                socket.Dispose();
                throw e;
            }
        }
        return socket;
    }

    /// <summary>Waits for the next event: its fields (ACTION, DEVPATH, MODALIAS …); null when the socket is closed.</summary>
    public unsafe IReadOnlyDictionary<string, string>? Receive()
    {
        var buffer = new byte[8192];
        while (_fd >= 0)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.Recv(_fd, p, (nuint)buffer.Length, 0);
            }
            if (n < 0)
            {
                var errno = (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno is Errno.EINTR or Errno.ENOBUFS)
                {
                    continue; // ENOBUFS: events were lost; the caller's next coldplug pass finds their devices
                }
                throw SysException.FromLastError("recv(uevent)");
            }
            var fields = Parse(buffer.AsSpan(0, (int)n));
            if (fields.Count > 0)
            {
                return fields;
            }
        }
        return null;
    }

    /// <summary>The KEY=VALUE fields of one kernel uevent ("ACTION@DEVPATH\0KEY=VALUE\0…"); none for anything else (udev's "libudev" messages).</summary>
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> message)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = Encoding.UTF8.GetString(message).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !parts[0].Contains('@', StringComparison.Ordinal))
        {
            return fields;
        }
        foreach (var part in parts.Skip(1))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields[part[..equals]] = part[(equals + 1)..];
            }
        }
        return fields;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Files.Close(fd);
        }
    }
}

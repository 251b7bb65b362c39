using System.Runtime.InteropServices;
using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A Unix datagram socket bound at a path (what syslog(3) writes to at /dev/log): messages are
/// read whole, one per datagram. The socket file is made beside and renamed into place, so a
/// reader never finds half a socket, and it is removed again on dispose.
/// </summary>
public sealed class DatagramListener : IDisposable
{
    private const int AfUnix = 1;
    private const int MaxPath = 107; // sun_path is 108 bytes with its NUL
    private readonly int _fd;

    public string Path { get; }

    private DatagramListener(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public static unsafe DatagramListener Bind(string path, int mode = Permissions.Octal0666)
    {
        var temporary = $"{path}.{Environment.ProcessId}.new";
        var name = Encoding.UTF8.GetBytes(temporary);
        if (name.Length > MaxPath)
        {
            throw new ArgumentException($"{temporary}: longer than a Unix socket path may be", nameof(path));
        }
        int fd = Libc.Socket(AfUnix, Libc.SockDgram | Libc.SockCloexec, 0);
        if (fd < 0)
        {
            throw SysException.FromLastError("socket(AF_UNIX, SOCK_DGRAM)");
        }
        try
        {
            Span<byte> address = stackalloc byte[110];
            address.Clear();
            address[0] = AfUnix;
            name.CopyTo(address[2..]);
            File.Delete(temporary);
            fixed (byte* a = address)
            {
                if (Libc.Bind(fd, a, (uint)(2 + name.Length + 1)) < 0)
                {
                    throw SysException.FromLastError($"bind({temporary})");
                }
            }
            File.SetUnixFileMode(temporary, (UnixFileMode)mode);
            File.Move(temporary, path, overwrite: true);
            return new DatagramListener(fd, path);
        }
        catch
        {
            Files.Close(fd);
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>The next message (blocks until one comes).</summary>
    public unsafe string Receive()
    {
        var buffer = new byte[2048];
        nint n;
        fixed (byte* b = buffer)
        {
            do
            {
                n = Libc.Recv(_fd, b, (nuint)buffer.Length, 0);
            }
            while (n < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.EINTR);
        }
        return n < 0 ? throw SysException.FromLastError($"recv({Path})") : Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    public void Dispose()
    {
        File.Delete(Path);
        Files.Close(_fd);
    }
}

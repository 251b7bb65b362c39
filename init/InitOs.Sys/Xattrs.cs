using System.Runtime.InteropServices;
using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>Extended attributes of one entry, never through a symlink (the l- calls), values as raw bytes.</summary>
public static class Xattrs
{
    public static unsafe void Set(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* data = value)
        {
            if (Libc.Lsetxattr(path, name, data, (nuint)value.Length, 0) < 0)
            {
                throw SysException.FromLastError($"setxattr({path}, {name})");
            }
        }
    }

    /// <summary>The names on an entry, sorted ordinally.</summary>
    public static unsafe IReadOnlyList<string> List(string path)
    {
        for (;;)
        {
            nint size = Libc.Llistxattr(path, null, 0);
            if (size < 0)
            {
                throw SysException.FromLastError($"listxattr({path})");
            }
            var buffer = new byte[size];
            fixed (byte* data = buffer)
            {
                nint read = Libc.Llistxattr(path, data, (nuint)buffer.Length);
                if (read < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.ERANGE)
                {
                    continue;
                }
                if (read < 0)
                {
                    throw SysException.FromLastError($"listxattr({path})");
                }
                var names = Encoding.UTF8.GetString(buffer, 0, (int)read).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                Array.Sort(names, StringComparer.Ordinal);
                return names;
            }
        }
    }

    public static unsafe byte[] Get(string path, string name)
    {
        for (;;)
        {
            nint size = Libc.Lgetxattr(path, name, null, 0);
            if (size < 0)
            {
                throw SysException.FromLastError($"getxattr({path}, {name})");
            }
            var buffer = new byte[size];
            fixed (byte* data = buffer)
            {
                nint read = Libc.Lgetxattr(path, name, data, (nuint)buffer.Length);
                if (read < 0 && (Errno)Marshal.GetLastPInvokeError() == Errno.ERANGE)
                {
                    continue;
                }
                return read < 0 ? throw SysException.FromLastError($"getxattr({path}, {name})") : buffer[..(int)read];
            }
        }
    }
}

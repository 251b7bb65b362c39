using System.Buffers.Binary;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>File-level calls with errno turned into <see cref="SysException"/>.</summary>
public static class Files
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtRemoveDir = 0x200;
    private const uint StatxBasicStats = 0x7FF;

    public static int Open(string path, OpenFlags flags, int mode = 0)
    {
        int fd = Libc.Open(path, (int)flags, mode);
        return fd >= 0 ? fd : throw SysException.FromLastError($"open({path})");
    }

    public static void Close(int fd) => _ = Libc.Close(fd);

    /// <summary>dup(2): a second fd for the same file, which (unlike the first, maybe) a child's exec keeps.</summary>
    public static int DuplicateInheritable(int fd)
    {
        int copy = Libc.Dup(fd);
        return copy >= 0 ? copy : throw SysException.FromLastError($"dup({fd})");
    }

    /// <summary>
    /// fd is open and would survive exec (no FD_CLOEXEC): one this process inherited, rather than
    /// one the runtime opened for itself (the .NET runtime opens all of its own close-on-exec).
    /// </summary>
    public static bool IsInheritedOpen(int fd)
    {
        const int getFlags = 1, closeOnExec = 1;
        int flags = Libc.Fcntl(fd, getFlags, 0);
        return flags >= 0 && (flags & closeOnExec) == 0;
    }

    /// <summary>The CLONE_NEW* type of a namespace file (ioctl NS_GET_NSTYPE); 0 when fd is no namespace.</summary>
    public static ulong NamespaceType(int fd)
    {
        const ulong nsGetNstype = 0xb703;
        int type = Libc.Ioctl(fd, nsGetNstype, 0);
        return type > 0 ? (ulong)type : 0;
    }

    public static void Dup2(int oldFd, int newFd)
    {
        if (Libc.Dup2(oldFd, newFd) < 0)
        {
            throw SysException.FromLastError($"dup2({oldFd}, {newFd})");
        }
    }

    /// <summary>read(2), retried on EINTR: the count read, 0 at end of file.</summary>
    public static int Read(int fd, byte[] buffer) => Read(fd, buffer.AsSpan());

    /// <summary>read(2) into a span, retried on EINTR: the count read, 0 at end of file.</summary>
    public static unsafe int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                nint n = Libc.Read(fd, pointer, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }
                if ((Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw SysException.FromLastError($"read(fd {fd})");
                }
            }
        }
    }

    /// <summary>Writes the whole buffer, retrying on short writes and EINTR; returns false when the fd is unusable.</summary>
    public static unsafe bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.Write(fd, start + done, (nuint)(data.Length - done));
                if (n < 0 && (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }
                if (n <= 0)
                {
                    return false;
                }
                done += (int)n;
            }
        }
        return true;
    }

    /// <summary>
    /// One write(2) of <paramref name="text"/> to an existing file (a kernel interface such as a
    /// cgroup or /proc file): the kernel's errno for a refused value comes back named with the path.
    /// </summary>
    public static void WriteText(string path, string text)
    {
        int fd = Open(path, OpenFlags.WriteOnly | OpenFlags.CloseOnExec);
        try
        {
            if (!WriteAll(fd, System.Text.Encoding.UTF8.GetBytes(text)))
            {
                throw SysException.FromLastError($"write({path}, \"{text.TrimEnd()}\")");
            }
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>chown of the path itself (a symlink is not followed).</summary>
    public static void Chown(string path, uint uid, uint gid) => FilesAt.Chown(AtFdCwd, path, uid, gid, path);

    /// <summary>mkdir that accepts an existing directory.</summary>
    public static void MakeDirectory(string path, int mode = Permissions.Octal0755)
    {
        if (Libc.Mkdir(path, mode) < 0)
        {
            var errno = (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Errno.EEXIST)
            {
                throw new SysException($"mkdir({path})", errno);
            }
        }
    }

    /// <summary>lstat-like status (symlinks not followed); null when the path does not exist.</summary>
    public static FileStatus? Status(string path, bool followSymlinks = false)
    {
        var status = TryStatus(path, followSymlinks, out var errno);
        if (status is null && errno != Errno.ENOENT && errno != Errno.ENOTDIR)
        {
            throw new SysException($"statx({path})", errno);
        }
        return status;
    }

    private static unsafe FileStatus? TryStatus(string path, bool followSymlinks, out Errno errno)
    {
        byte* buffer = stackalloc byte[256];
        int flags = followSymlinks ? 0 : AtSymlinkNoFollow;
        if (Libc.Statx(AtFdCwd, path, flags, StatxBasicStats, buffer) < 0)
        {
            errno = (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            return null;
        }
        errno = Errno.None;
        return FileStatus.FromStatx(new ReadOnlySpan<byte>(buffer, 256));
    }

    /// <summary>
    /// Opens a file for reading only when it is a regular file, without following a symlink in
    /// its last component (and without blocking on a FIFO or opening a device for more than the
    /// check): how files from an unsigned volume are read.
    /// </summary>
    public static FileStream OpenRegularFile(string path)
    {
        var errno = FilesAt.TryOpen(AtFdCwd, path, OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlocking, out int fd);
        if (errno == Errno.ELOOP)
        {
            throw new IOException($"{path} is a symbolic link, not a regular file");
        }
        if (errno != Errno.None)
        {
            throw new SysException($"open({path})", errno);
        }
        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var status = FilesAt.StatusOf(fd, path);
            if (!status.IsRegularFile)
            {
                throw new IOException($"{path} is not a regular file (mode {Convert.ToString(status.Mode, 8)})");
            }
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>unlink or rmdir one entry, without following symlinks.</summary>
    public static void Remove(string path, bool isDirectory)
    {
        if (Libc.UnlinkAt(AtFdCwd, path, isDirectory ? AtRemoveDir : 0) < 0)
        {
            throw SysException.FromLastError($"unlink({path})");
        }
    }

    public static void Sync() => Libc.Sync();
}

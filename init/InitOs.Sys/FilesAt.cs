using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// File operations relative to an open directory fd, one path component at a time: how a
/// jail's root is built without following a symlink the image put in the way.
/// </summary>
public static class FilesAt
{
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;

    /// <summary>openat; the error names <paramref name="what"/> (the path as the user knows it).</summary>
    public static int Open(int dirFd, string name, OpenFlags flags, string what, int mode = 0)
    {
        int fd = Libc.OpenAt(dirFd, name, (int)(flags | OpenFlags.CloseOnExec), mode);
        return fd >= 0 ? fd : throw SysException.FromLastError($"open({what})");
    }

    public static Errno TryOpen(int dirFd, string name, OpenFlags flags, out int fd, int mode = 0)
    {
        fd = Libc.OpenAt(dirFd, name, (int)(flags | OpenFlags.CloseOnExec), mode);
        return fd >= 0 ? Errno.None : (Errno)Marshal.GetLastPInvokeError();
    }

    /// <summary>mkdirat; an existing entry is not an error (the caller checks what it is).</summary>
    public static void MakeDirectory(int dirFd, string name, string what, int mode = Permissions.Octal0755)
    {
        if (Libc.MkdirAt(dirFd, name, mode) < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EEXIST)
        {
            throw SysException.FromLastError($"mkdir({what})");
        }
    }

    public static void MakeNode(int dirFd, string name, uint mode, uint major, uint minor, string what)
    {
        // glibc's makedev: the Linux dev_t encoding.
        ulong dev = ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
        if (Libc.MknodAt(dirFd, name, mode, dev) < 0)
        {
            throw SysException.FromLastError($"mknod({what})");
        }
    }

    public static void Symlink(string target, int dirFd, string name, string what)
    {
        if (Libc.SymlinkAt(target, dirFd, name) < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EEXIST)
        {
            throw SysException.FromLastError($"symlink({what} -> {target})");
        }
    }

    public static void Chown(int dirFd, string name, uint uid, uint gid, string what)
    {
        if (Libc.FchownAt(dirFd, name, uid, gid, AtSymlinkNoFollow) < 0)
        {
            throw SysException.FromLastError($"chown({what})");
        }
    }

    /// <summary>
    /// openat2 with RESOLVE_IN_ROOT: <paramref name="path"/> is resolved as if <paramref name="rootFd"/>
    /// were /, so "..", absolute symlinks and relative ones that climb all stay inside it (how
    /// an image's layers are unpacked: a symlink a layer made cannot send a later entry outside).
    /// </summary>
    public static unsafe Errno TryOpenInRoot(int rootFd, string path, OpenFlags flags, out int fd)
    {
        const long OpenAt2 = 437;
        const ulong ResolveNoMagicLinks = 0x02, ResolveInRoot = 0x10;
        var how = new Libc.OpenHow { Flags = (ulong)(flags | OpenFlags.CloseOnExec), Resolve = ResolveInRoot | ResolveNoMagicLinks };
        long result = Libc.SyscallOpenAt2(OpenAt2, rootFd, path.Length == 0 ? "." : path, &how, (nuint)sizeof(Libc.OpenHow));
        fd = (int)result;
        return result >= 0 ? Errno.None : (Errno)Marshal.GetLastPInvokeError();
    }

    /// <summary>The target of the symlink an O_PATH|O_NOFOLLOW fd holds (readlinkat with an empty name).</summary>
    public static unsafe string ReadLink(int fd, string what)
    {
        const int size = 4096;
        byte* buffer = stackalloc byte[size];
        nint n = Libc.ReadLinkAt(fd, "", buffer, size);
        if (n < 0)
        {
            throw SysException.FromLastError($"readlink({what})");
        }
        return System.Text.Encoding.UTF8.GetString(buffer, (int)n);
    }

    /// <summary>statx of <paramref name="name"/> in a directory, not following a symlink; null when absent.</summary>
    public static unsafe FileStatus? TryStatusAt(int dirFd, string name, string what)
    {
        byte* buffer = stackalloc byte[256];
        if (Libc.Statx(dirFd, name, AtSymlinkNoFollow, 0x7FF, buffer) < 0)
        {
            var errno = (Errno)Marshal.GetLastPInvokeError();
            return errno is Errno.ENOENT ? null : throw new SysException($"stat({what})", errno);
        }
        return FileStatus.FromStatx(new ReadOnlySpan<byte>(buffer, 256));
    }

    /// <summary>linkat: a hard link, never through a symlink at either end.</summary>
    public static void Link(int oldDirFd, string oldName, int newDirFd, string newName, string what)
    {
        if (Libc.LinkAt(oldDirFd, oldName, newDirFd, newName, 0) < 0)
        {
            throw SysException.FromLastError($"link({what})");
        }
    }

    /// <summary>fchmodat: the caller knows the entry is not a symlink (Linux cannot change a symlink's mode).</summary>
    public static void ChangeMode(int dirFd, string name, uint mode, string what)
    {
        if (Libc.FchmodAt(dirFd, name, mode, 0) < 0)
        {
            throw SysException.FromLastError($"chmod({what})");
        }
    }

    /// <summary>utimensat without following a symlink: access and modification time both set to <paramref name="seconds"/>.<paramref name="nanoseconds"/>.</summary>
    public static unsafe void SetTimes(int dirFd, string name, long seconds, long nanoseconds, string what)
    {
        var times = stackalloc Libc.TimeSpec[2];
        times[0] = times[1] = new Libc.TimeSpec { Seconds = seconds, Nanoseconds = nanoseconds };
        if (Libc.UtimensAt(dirFd, name, times, AtSymlinkNoFollow) < 0)
        {
            throw SysException.FromLastError($"utimensat({what})");
        }
    }

    /// <summary>unlinkat of one entry (rmdir for a directory, which must be empty).</summary>
    public static void Remove(int dirFd, string name, bool isDirectory, string what)
    {
        if (Libc.UnlinkAt(dirFd, name, isDirectory ? 0x200 : 0) < 0)
        {
            throw SysException.FromLastError($"unlink({what})");
        }
    }

    /// <summary>fstat of an open fd (O_PATH fds included).</summary>
    public static unsafe FileStatus StatusOf(int fd, string what)
    {
        byte* buffer = stackalloc byte[256];
        if (Libc.Statx(fd, "", AtEmptyPath | AtSymlinkNoFollow, 0x7FF, buffer) < 0)
        {
            throw SysException.FromLastError($"stat({what})");
        }
        return FileStatus.FromStatx(new ReadOnlySpan<byte>(buffer, 256));
    }

    /// <summary>The path the kernel resolves an fd through: mount(2) onto an fd, not a re-walked path.</summary>
    public static string ProcPath(int fd) => $"/proc/self/fd/{fd}";
}

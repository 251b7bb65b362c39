using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A log file that can only grow: opened with O_APPEND (never following a symlink), and given
/// the filesystem's append-only flag (FS_APPEND_FL, `chattr +a`) so that not even root can
/// truncate or rewrite it without first taking the flag off (CAP_LINUX_IMMUTABLE), which is
/// itself a change someone has to make on purpose. Filesystems without the flag (tmpfs) get
/// O_APPEND only; <see cref="AppendLine"/> says which.
/// </summary>
public static class AppendOnlyLog
{
    private const ulong FsIocGetFlags = 0x80086601;
    private const ulong FsIocSetFlags = 0x40086602;
    private const int FsAppendFlag = 0x20;

    /// <summary>Appends one line (a newline is added); true when the file carries the append-only flag.</summary>
    public static bool AppendLine(string path, string line)
    {
        int fd = Files.Open(path, OpenFlags.WriteOnly | OpenFlags.Append | OpenFlags.Create | OpenFlags.NoFollow | OpenFlags.CloseOnExec, Permissions.Octal0600);
        try
        {
            bool appendOnly = TrySetAppendOnly(fd);
            if (!Files.WriteAll(fd, Encoding.UTF8.GetBytes(line + "\n")))
            {
                throw SysException.FromLastError($"write({path})");
            }
            return appendOnly;
        }
        finally
        {
            Files.Close(fd);
        }
    }

    private static unsafe bool TrySetAppendOnly(int fd)
    {
        int flags = 0;
        if (Libc.Ioctl(fd, FsIocGetFlags, (nint)(&flags)) < 0)
        {
            return false;
        }
        if ((flags & FsAppendFlag) != 0)
        {
            return true;
        }
        flags |= FsAppendFlag;
        return Libc.Ioctl(fd, FsIocSetFlags, (nint)(&flags)) == 0;
    }
}

using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// An exclusive flock(2) on a lock file, held until disposed. The lock belongs to this open
/// file description, so it excludes other processes and other FileLock instances in this
/// process alike, and the kernel drops it if the process dies.
/// </summary>
public sealed class FileLock : IDisposable
{
    private const int OwnerReadWrite = Permissions.Octal0600;

    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>Opens (creating if needed) <paramref name="path"/> and blocks until the lock is ours.</summary>
    public static FileLock Exclusive(string path)
    {
        int fd = Files.Open(path, OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.CloseOnExec, OwnerReadWrite);
        while (Libc.Flock(fd, Libc.LockExclusive) < 0)
        {
            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                Files.Close(fd);
                throw new SysException($"flock({path}, LOCK_EX)", errno);
            }
        }
        return new FileLock(fd);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Files.Close(fd); // closing the last fd of the description releases the lock
        }
    }
}

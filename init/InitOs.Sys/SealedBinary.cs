using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A copy of an executable that a jail can run but never write: cached per binary version on
/// its own read-only bind mount (made once, it spares every start a 4.7 MB copy), so
/// /proc/self/exe inside the jail is neither the host's binary nor writable (runc CVE-2019-5736).
/// </summary>
public static class SealedBinary
{
    // sendfile: the kernel copies page cache to page cache, no trip through managed buffers.
    private static void CopyInKernel(string path, int target)
    {
        int source = Files.Open(path, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            while (true)
            {
                long n = Libc.Sendfile(target, source, 0, 1 << 30);
                if (n == 0)
                {
                    return;
                }
                if (n < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw SysException.FromLastError($"sendfile(copy of {path})");
                }
            }
        }
        finally
        {
            Files.Close(source);
        }
    }

    /// <summary>
    /// An O_PATH fd of a copy of <paramref name="path"/> under <paramref name="cacheDirectory"/>,
    /// named after the original's device, inode, size and mtime, bind-mounted read-only onto
    /// itself. Made (under a lock) when missing or not on a read-only mount.
    /// </summary>
    public static int ReadOnlyCopy(string path, string cacheDirectory)
    {
        var original = new FileInfo(File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path));
        var status = Files.Status(original.FullName, followSymlinks: true) ?? throw new FileNotFoundException($"{path} does not exist");
        var name = $"initos-{status.DevMajor}.{status.DevMinor}-{original.Length}-{original.LastWriteTimeUtc.Ticks}";
        var copy = Path.Combine(cacheDirectory, name);
        if (!IsSealedCopy(copy))
        {
            Directory.CreateDirectory(cacheDirectory);
            using var cacheLock = FileLock.Exclusive(Path.Combine(cacheDirectory, ".lock"));
            if (!IsSealedCopy(copy))
            {
                MakeSealedCopy(original.FullName, copy);
            }
        }
        return Files.Open(copy, OpenFlags.PathOnly | OpenFlags.CloseOnExec);
    }

    private static bool IsSealedCopy(string copy) => File.Exists(copy) && FileSystems.IsReadOnlyMount(copy);

    private static void MakeSealedCopy(string original, string copy)
    {
        var temporary = copy + ".tmp";
        int fd = Files.Open(temporary, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.CloseOnExec | OpenFlags.Truncate, Permissions.Octal0555);
        try
        {
            CopyInKernel(original, fd);
        }
        finally
        {
            Files.Close(fd);
        }
        File.Move(temporary, copy, overwrite: true);
        Mounts.Mount(copy, copy, null, MountFlags.Bind, null);
        Mounts.Mount(null, copy, null, MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev, null);
    }
}

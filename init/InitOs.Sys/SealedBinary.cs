using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// Copies of an executable that a jail can run but never write: a sealed in-memory copy, or a
/// cached copy on its own read-only bind mount (what jails use: made once per binary, it spares
/// every start the 4.7 MB copy). Either way /proc/self/exe inside the jail is not the host's
/// binary and cannot be opened for writing (runc CVE-2019-5736).
/// </summary>
/// <remarks>The memfd form:
/// A read-only, sealed in-memory copy of an executable (memfd_create + F_ADD_SEALS). A jail's
/// init runs from it, so /proc/self/exe inside the jail is this memfd — which cannot be
/// written — and never the host's binary (runc CVE-2019-5736).
/// </remarks>
public static class SealedBinary
{
    private const uint MfdCloexec = 1, MfdAllowSealing = 2;
    private const int FAddSeals = 1033;
    private const int SealSeal = 1, SealShrink = 2, SealGrow = 4, SealWrite = 8;

    public static int CopyOf(string path)
    {
        int fd = Libc.MemfdCreate("initos-sealed", MfdCloexec | MfdAllowSealing);
        if (fd < 0)
        {
            throw SysException.FromLastError("memfd_create");
        }
        try
        {
            CopyInKernel(path, fd);
            if (Libc.Fcntl(fd, FAddSeals, SealSeal | SealShrink | SealGrow | SealWrite) < 0)
            {
                throw SysException.FromLastError("fcntl(F_ADD_SEALS)");
            }
            return fd;
        }
        catch
        {
            Files.Close(fd);
            throw;
        }
    }

    // sendfile: the kernel copies page cache to the memfd, no trip through managed buffers.
    private static void CopyInKernel(string path, int memfd)
    {
        int source = Files.Open(path, Files.ReadOnly | Files.CloseOnExec);
        try
        {
            while (true)
            {
                long n = Libc.Sendfile(memfd, source, 0, 1 << 30);
                if (n == 0)
                {
                    return;
                }
                if (n < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw SysException.FromLastError($"sendfile(memfd copy of {path})");
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
        return Files.Open(copy, FilesAt.PathOnly | Files.CloseOnExec);
    }

    private static bool IsSealedCopy(string copy) => File.Exists(copy) && FileSystems.IsReadOnlyMount(copy);

    private static void MakeSealedCopy(string original, string copy)
    {
        var temporary = copy + ".tmp";
        int fd = Files.Open(temporary, Files.WriteOnly | FilesAt.Create | Files.CloseOnExec | 0x200 /* O_TRUNC */, 0x16D);
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

    /// <summary>True when the fd carries F_SEAL_WRITE (tests check the jail's own /proc/self/exe).</summary>
    public static bool IsWriteSealed(int fd)
    {
        const int FGetSeals = 1034;
        int seals = Libc.Fcntl(fd, FGetSeals, 0);
        return seals >= 0 && (seals & SealWrite) != 0;
    }
}

using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A read-only, sealed in-memory copy of an executable (memfd_create + F_ADD_SEALS). A jail's
/// init runs from it, so /proc/self/exe inside the jail is this memfd — which cannot be
/// written — and never the host's binary (runc CVE-2019-5736).
/// </summary>
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

    /// <summary>True when the fd carries F_SEAL_WRITE (tests check the jail's own /proc/self/exe).</summary>
    public static bool IsWriteSealed(int fd)
    {
        const int FGetSeals = 1034;
        int seals = Libc.Fcntl(fd, FGetSeals, 0);
        return seals >= 0 && (seals & SealWrite) != 0;
    }
}

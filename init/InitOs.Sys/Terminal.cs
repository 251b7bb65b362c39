using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>The console as stdin/stdout/stderr.</summary>
public static class Terminal
{
    /// <summary>Opens <paramref name="path"/> and puts it on fds 0, 1 and 2.</summary>
    public static void AttachStdio(string path)
    {
        int fd = Files.Open(path, Files.ReadWrite | Files.NoCtty);
        for (int target = 0; target <= 2; target++)
        {
            if (fd != target)
            {
                Files.Dup2(fd, target);
            }
        }
        if (fd > 2)
        {
            Files.Close(fd);
        }
    }

    private const ulong TiocSctty = 0x540E, TiocSptlck = 0x40045431, TiocGptn = 0x80045430;

    /// <summary>fd 0 becomes the controlling terminal of this process's session (which it must lead).</summary>
    public static void MakeControlling()
    {
        if (Libc.Ioctl(0, TiocSctty, 0) != 0)
        {
            throw SysException.FromLastError("ioctl TIOCSCTTY");
        }
    }

    /// <summary>A new pseudo-terminal: the master fd (close-on-exec) and the slave's path (/dev/pts/N), unlocked.</summary>
    public static unsafe (int Master, string SlavePath) OpenPty()
    {
        int master = Files.Open("/dev/ptmx", Files.ReadWrite | Files.NoCtty | Files.CloseOnExec);
        int unlock = 0, number = 0;
        if (Libc.Ioctl(master, TiocSptlck, (nint)(&unlock)) != 0 || Libc.Ioctl(master, TiocGptn, (nint)(&number)) != 0)
        {
            var e = SysException.FromLastError("ioctl on /dev/ptmx");
            Files.Close(master);
            throw e;
        }
        return (master, $"/dev/pts/{number}");
    }

    internal static int Ioctl(int fd, ulong request, nint argument) => Libc.Ioctl(fd, request, argument);
}

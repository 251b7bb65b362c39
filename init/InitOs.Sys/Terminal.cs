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

    internal static int Ioctl(int fd, ulong request, nint argument) => Libc.Ioctl(fd, request, argument);
}

using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>pipe2(2).</summary>
public static class Pipes
{
    /// <summary>[read end, write end].</summary>
    public static unsafe int[] Create(bool closeOnExec)
    {
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, closeOnExec ? (int)OpenFlags.CloseOnExec : 0) != 0)
        {
            throw SysException.FromLastError("pipe2");
        }
        return [fds[0], fds[1]];
    }

    /// <summary>
    /// Whether the reader of the pipe (or socket) <paramref name="fd"/> writes to has gone:
    /// poll reports POLLERR or POLLHUP on the write end. A follower that writes only when there
    /// is news asks this while it waits, so it ends when its client does.
    /// </summary>
    public static unsafe bool ReaderGone(int fd)
    {
        const short PollOut = 4, PollErr = 8, PollHup = 16;
        var poll = new Libc.PollFd { Fd = fd, Events = PollOut };
        return Libc.Poll(&poll, 1, 0) > 0 && (poll.ReturnedEvents & (PollErr | PollHup)) != 0;
    }
}

/// <summary>memfd_create(2): an anonymous file, for handing data to a child by fd.</summary>
public static class Memfd
{
    public static int Create(string name)
    {
        const uint MfdCloexec = 1;
        int fd = Libc.MemfdCreate(name, MfdCloexec);
        return fd >= 0 ? fd : throw SysException.FromLastError($"memfd_create({name})");
    }
}

/// <summary>mkfifo(3).</summary>
public static class Fifo
{
    public static void Create(string path, int mode = Permissions.Octal0600)
    {
        if (Libc.Mkfifo(path, mode) != 0)
        {
            throw SysException.FromLastError($"mkfifo({path})");
        }
    }
}

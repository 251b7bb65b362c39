using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>The console as stdin/stdout/stderr.</summary>
public static class Terminal
{
    /// <summary>Opens <paramref name="path"/> and puts it on fds 0, 1 and 2.</summary>
    public static void AttachStdio(string path)
    {
        int fd = Files.Open(path, OpenFlags.ReadWrite | OpenFlags.NoCtty);
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
        int master = Files.Open("/dev/ptmx", OpenFlags.ReadWrite | OpenFlags.NoCtty | OpenFlags.CloseOnExec);
        int unlock = 0, number = 0;
        if (Libc.Ioctl(master, TiocSptlck, (nint)(&unlock)) != 0 || Libc.Ioctl(master, TiocGptn, (nint)(&number)) != 0)
        {
            var e = SysException.FromLastError("ioctl on /dev/ptmx");
            Files.Close(master);
            throw e;
        }
        return (master, $"/dev/pts/{number}");
    }

    private const ulong TcGets = 0x5401, TcSets = 0x5402;

    /// <summary>The kernel's struct termios as TCGETS fills it (NCCS = 19).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private unsafe struct KernelTermios
    {
        public uint InputFlags, OutputFlags, ControlFlags, LocalFlags;
        public byte Line;
        public fixed byte ControlChars[19];
    }

    /// <summary>
    /// Input passes byte by byte, unechoed and uninterpreted (no line editing, no ^C as a signal):
    /// the terminal it is relayed to does all that. Output processing stays, so that lines
    /// written to this terminal still end where they should.
    /// </summary>
    public static unsafe void MakeInputRaw(int fd)
    {
        const uint ignoreBreak = 0x1, breakInterrupts = 0x2, markParity = 0x8, strip = 0x20, nlToCr = 0x40, ignoreCr = 0x80, crToNl = 0x100, flowControl = 0x400;
        const uint signals = 0x1, canonical = 0x2, echo = 0x8, echoNl = 0x40, extended = 0x8000;
        const int minIndex = 6, timeIndex = 5;
        var termios = default(KernelTermios);
        if (Libc.Ioctl(fd, TcGets, (nint)(&termios)) != 0)
        {
            throw SysException.FromLastError("ioctl TCGETS");
        }
        termios.InputFlags &= ~(ignoreBreak | breakInterrupts | markParity | strip | nlToCr | ignoreCr | crToNl | flowControl);
        termios.LocalFlags &= ~(signals | canonical | echo | echoNl | extended);
        termios.ControlChars[minIndex] = 1;
        termios.ControlChars[timeIndex] = 0;
        if (Libc.Ioctl(fd, TcSets, (nint)(&termios)) != 0)
        {
            throw SysException.FromLastError("ioctl TCSETS");
        }
    }

    internal static int Ioctl(int fd, ulong request, nint argument) => Libc.Ioctl(fd, request, argument);

    /// <summary>fd's termios as it is now (to put back with <see cref="RestoreMode"/>); null when fd is no terminal.</summary>
    public static unsafe byte[]? SaveMode(int fd)
    {
        var termios = default(KernelTermios);
        if (Libc.Ioctl(fd, TcGets, (nint)(&termios)) != 0)
        {
            return null;
        }
        var saved = new byte[sizeof(KernelTermios)];
        fixed (byte* target = saved)
        {
            *(KernelTermios*)target = termios;
        }
        return saved;
    }

    /// <summary>Puts back a mode <see cref="SaveMode"/> took (best effort: the terminal may be gone).</summary>
    public static unsafe void RestoreMode(int fd, byte[] saved)
    {
        fixed (byte* source = saved)
        {
            _ = Libc.Ioctl(fd, TcSets, (nint)source);
        }
    }

    private const ulong TiocGwinsz = 0x5413, TiocSwinsz = 0x5414;

    /// <summary>Gives <paramref name="to"/> the window size of <paramref name="from"/> (nothing when from is no terminal).</summary>
    public static unsafe void CopyWindowSize(int from, int to)
    {
        ulong size = 0; // struct winsize: four unsigned shorts
        if (Libc.Ioctl(from, TiocGwinsz, (nint)(&size)) == 0)
        {
            _ = Libc.Ioctl(to, TiocSwinsz, (nint)(&size));
        }
    }

    /// <summary>
    /// Sends <paramref name="fd"/> over the unix stream socket at <paramref name="socketPath"/>
    /// (SCM_RIGHTS, <paramref name="name"/> as the message), as runc hands a terminal's master to
    /// the caller of --console-socket.
    /// </summary>
    public static void SendOverSocket(string socketPath, int fd, string name)
    {
        int result = Interop.Native.SendFd(socketPath, fd, name);
        if (result < 0)
        {
            throw new SysException($"sending the terminal to {socketPath}", (Errno)(-result));
        }
    }

    private const ulong TcFlush = 0x540B, TcSbrk = 0x5409;

    /// <summary>tcdrain: waits until what was written to the terminal has gone out of the port (false when fd is no terminal).</summary>
    public static bool Drain(int fd) => Libc.Ioctl(fd, TcSbrk, 1) == 0;

    /// <summary>Drops what was typed and not yet read (TCIFLUSH): only what comes after a prompt counts.</summary>
    public static void DropTypedAhead(int fd) => _ = Libc.Ioctl(fd, TcFlush, 0);

    /// <summary>
    /// Waits until Enter is pressed on one of <paramref name="terminals"/> (opened non-blocking) and
    /// gives its index; -1 when every one of them hung up. In canonical mode the kernel reports a
    /// terminal readable only once a whole line is there; in raw mode the bytes are searched for
    /// the end of a line. What was read is consumed.
    /// </summary>
    public static unsafe int WaitForEnter(IReadOnlyList<int> terminals)
    {
        const short pollIn = 1, pollErr = 8, pollHup = 16, pollInvalid = 32;
        var polls = new Libc.PollFd[terminals.Count];
        for (int i = 0; i < polls.Length; i++)
        {
            polls[i] = new Libc.PollFd { Fd = terminals[i], Events = pollIn };
        }
        var buffer = new byte[256];
        while (polls.Any(p => p.Fd >= 0))
        {
            int ready;
            fixed (Libc.PollFd* p = polls)
            {
                ready = Libc.Poll(p, (nuint)polls.Length, -1);
            }
            if (ready < 0)
            {
                if ((Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw SysException.FromLastError("poll on the consoles");
                }
                continue;
            }
            for (int i = 0; i < polls.Length; i++)
            {
                var events = polls[i].ReturnedEvents;
                if ((events & pollIn) != 0 && LineEnded(polls[i].Fd, buffer))
                {
                    return i;
                }
                if ((events & (pollErr | pollHup | pollInvalid)) != 0)
                {
                    polls[i].Fd = -1; // poll ignores a negative fd: a dead line stops waking us
                }
            }
        }
        return -1;
    }

    private static bool LineEnded(int fd, byte[] buffer)
    {
        try
        {
            int n = Files.Read(fd, buffer);
            return buffer.AsSpan(0, Math.Max(n, 0)).IndexOfAny((byte)'\n', (byte)'\r') >= 0;
        }
        catch (SysException)
        {
            return false; // EAGAIN: another reader took it
        }
    }
}

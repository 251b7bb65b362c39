using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>Linux x86-64 signal numbers InitOS names.</summary>
public static class Signal
{
    public const int Hup = 1, Int = 2, Quit = 3, Ill = 4, Trap = 5, Abrt = 6, Bus = 7, Fpe = 8, Kill = 9,
        Usr1 = 10, Segv = 11, Usr2 = 12, Pipe = 13, Alrm = 14, Term = 15, Chld = 17, Cont = 18, Stop = 19,
        Tstp = 20, Ttin = 21, Ttou = 22, Winch = 28, Sys = 31, RtMin = 34, Max = 64;

    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    public static string Name(int signal) =>
        signal > 0 && signal < Names.Length ? "SIG" + Names[signal] : signal >= RtMin && signal <= Max ? $"SIGRTMIN+{signal - RtMin}" : $"signal {signal}";

    /// <summary>"TERM", "SIGTERM", "15" → 15, "SIGRTMIN+3" → 37; null when it is none of those.</summary>
    public static int? Parse(string text)
    {
        if (int.TryParse(text, out int number))
        {
            return number > 0 && number <= Max ? number : null;
        }
        var name = text.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? text[3..] : text;
        if (name.StartsWith("RTMIN+", StringComparison.OrdinalIgnoreCase) && int.TryParse(name[6..], out int offset))
        {
            return offset >= 0 && RtMin + offset <= Max ? RtMin + offset : null;
        }
        int index = Array.FindIndex(Names, n => n.Length > 0 && string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return index > 0 ? index : null;
    }
}

/// <summary>
/// Signals turned into something a thread can wait for: the C helper's handler flags the
/// signal and writes a byte to a pipe; <see cref="Wait"/> sleeps on the pipe and returns the
/// flagged signals. Only one instance may exist in a process.
/// </summary>
public sealed class SignalPipe
{
    private readonly int _readFd;
    private readonly int _writeFd;

    public unsafe SignalPipe()
    {
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, (int)(OpenFlags.CloseOnExec | OpenFlags.NonBlocking)) != 0)
        {
            throw SysException.FromLastError("pipe2");
        }
        _readFd = fds[0];
        _writeFd = fds[1];
    }

    public void Catch(int signal)
    {
        if (Native.CatchSignal(signal, _writeFd) != 0)
        {
            throw SysException.FromLastError($"sigaction({Signal.Name(signal)})");
        }
    }

    /// <summary>
    /// Call on the thread that waits: an inherited mask may block a caught signal (tini's sigconf
    /// test blocks SIGTERM), and a signal blocked everywhere is never delivered.
    /// </summary>
    public static void UnblockCaughtOnThisThread() => _ = Native.UnblockCaughtSignals();

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: forever) and puts the signals that arrived
    /// into <paramref name="arrived"/> (cleared first), in number order; nothing is allocated.
    /// </summary>
    public unsafe void Wait(int timeoutMs, List<int> arrived)
    {
        var fd = new Libc.PollFd { Fd = _readFd, Events = 1 };
        int ready = Libc.Poll(&fd, 1, timeoutMs);
        if (ready < 0 && (Errno)Marshal.GetLastPInvokeError() != Errno.EINTR)
        {
            throw SysException.FromLastError("poll");
        }
        Drain();
        arrived.Clear();
        ulong mask = Native.TakeSignals();
        for (int signal = 1; mask != 0; signal++, mask >>= 1)
        {
            if ((mask & 1) != 0)
            {
                arrived.Add(signal);
            }
        }
    }

    /// <summary>Empties the wake-up pipe; the flags, not the bytes, say which signals came.</summary>
    private unsafe void Drain()
    {
        byte* buffer = stackalloc byte[256];
        while (Libc.Read(_readFd, buffer, 256) > 0)
        {
        }
    }
}

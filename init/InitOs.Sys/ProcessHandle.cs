using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A process held by a pidfd (pidfd_open(2)): it names that process, never a later one that
/// reuses its pid, so a check made through it cannot be raced by the pid's recycling.
/// </summary>
public sealed class ProcessHandle : IDisposable
{
    private const long SysPidfdSendSignal = 424, SysPidfdOpen = 434;
    private int fd;

    private ProcessHandle(int pid, int fd)
    {
        Pid = pid;
        this.fd = fd;
    }

    public int Pid { get; }

    /// <summary>The process, or null when there is no process <paramref name="pid"/>.</summary>
    public static ProcessHandle? Open(int pid)
    {
        long result = Libc.Syscall3(SysPidfdOpen, pid, 0, 0);
        if (result >= 0)
        {
            return new ProcessHandle(pid, (int)result);
        }
        var error = (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return error == Errno.ESRCH ? null : throw new SysException($"pidfd_open({pid})", error);
    }

    /// <summary>Whether the process is still there (signal 0 through the pidfd: ESRCH once it has exited).</summary>
    public bool IsAlive => Libc.Syscall4(SysPidfdSendSignal, fd, 0, 0, 0) == 0;

    public void Dispose()
    {
        if (fd >= 0)
        {
            Files.Close(fd);
            fd = -1;
        }
    }
}

using InitOs.Sys;

namespace InitOs.Init.Recovery;

/// <summary>
/// PID 1's reaping while it boots. InitOS never uses System.Diagnostics.Process in the
/// initramfs binary, so this is the only code that calls waitpid: statuses of other
/// children (orphans re-parented to PID 1) are collected and dropped on the way.
/// </summary>
public static class ChildReaper
{
    /// <summary>Blocks until <paramref name="pid"/> ends, reaping any other child meanwhile.</summary>
    public static ChildExit WaitFor(int pid)
    {
        while (true)
        {
            var exit = Processes.Wait() ?? throw new SysException($"waiting for pid {pid}: no such child", Errno.ECHILD);
            if (exit.Pid == pid)
            {
                return exit;
            }
        }
    }

    /// <summary>Blocks for any one child; null when there are no children at all.</summary>
    public static ChildExit? ReapOne() => Processes.Wait();

    /// <summary>Collects every zombie without blocking.</summary>
    public static int ReapAll()
    {
        int count = 0;
        while (Processes.Wait(noHang: true) is not null)
        {
            count++;
        }
        return count;
    }
}

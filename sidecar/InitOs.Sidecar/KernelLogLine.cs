using InitOs.Sys;

namespace InitOs.Sidecar;

/// <summary>One line into the kernel log (what `logs` and the serial console show), from a process that is not PID 1.</summary>
public static class KernelLogLine
{
    public static void Write(string line)
    {
        // One write(2) is one record; a FileStream would try to seek the device first.
        try
        {
            int fd = Files.Open("/dev/kmsg", OpenFlags.WriteOnly | OpenFlags.CloseOnExec | OpenFlags.NoCtty);
            try
            {
                Files.WriteAll(fd, System.Text.Encoding.UTF8.GetBytes("<5>" + line + "\n"));
            }
            finally
            {
                Files.Close(fd);
            }
        }
        catch (SysException)
        {
            // No kernel log to write to (a test host without /dev/kmsg access).
        }
    }
}

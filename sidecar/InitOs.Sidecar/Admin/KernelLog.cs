using System.Globalization;
using InitOs.Sys;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `initos admin logs [--follow]`: the kernel's ring buffer from /dev/kmsg, which also holds
/// every line InitOS logged (PID 1 writes its log there as well as to the console). Each
/// record is printed as "[seconds] message"; --follow then waits for new ones.
/// </summary>
internal static class KernelLog
{
    private const Errno EPIPE = (Errno)32;

    public static int Print(bool follow)
    {
        int fd = Files.Open("/dev/kmsg", OpenFlags.ReadOnly | OpenFlags.CloseOnExec | OpenFlags.NonBlocking);
        try
        {
            var buffer = new byte[8192];
            while (true)
            {
                int n;
                try
                {
                    n = Files.Read(fd, buffer);
                }
                catch (SysException e) when (e.Errno == Errno.EAGAIN)
                {
                    Console.Out.Flush();
                    // The client has gone (sshd closed our stdout): nothing would read the next lines.
                    if (!follow || Pipes.ReaderGone(1))
                    {
                        return 0;
                    }
                    Thread.Sleep(200);
                    continue;
                }
                catch (SysException e) when (e.Errno == EPIPE)
                {
                    // Records were overwritten while we read: carry on with the oldest still there.
                    continue;
                }
                if (n <= 0)
                {
                    return 0;
                }
                Console.Out.Write(Format(System.Text.Encoding.UTF8.GetString(buffer, 0, n)));
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }

    /// <summary>"6,1234,5678901,-;message\n" → "[    5.678901] message\n" (continuation lines dropped).</summary>
    public static string Format(string record)
    {
        int semicolon = record.IndexOf(';', StringComparison.Ordinal);
        var header = (semicolon < 0 ? "" : record[..semicolon]).Split(',');
        var message = (semicolon < 0 ? record : record[(semicolon + 1)..]).Split('\n')[0];
        double seconds = header.Length >= 3 && long.TryParse(header[2], NumberStyles.None, CultureInfo.InvariantCulture, out long micros) ? micros / 1e6 : 0;
        return string.Create(CultureInfo.InvariantCulture, $"[{seconds,12:F6}] {message}\n");
    }
}

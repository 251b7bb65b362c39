using System.Globalization;
using InitOs.Sys;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// Every ssh session's key, role, address and command, and whether it was let run: in the
/// kernel log (what `logs` shows), and, with a data volume, in state/audit.log there, a file
/// that can only grow (<see cref="AppendOnlyLog"/>). Recorded before the command runs, so a
/// command that never ends (logs --follow, a debug shell) is on record too.
/// </summary>
public static class AdminAudit
{
    public const string DataStateDirectory = "/run/initos/data/state";
    public const string FileName = "audit.log";

    public static void Record(AdminSession session, string[] words, string verdict, string stateDirectory = DataStateDirectory)
    {
        var entry = $"initos admin: {session.Describe()}: {(words.Length == 0 ? "help" : string.Join(' ', words))}: {verdict}";
        WriteKernelLog(entry);
        // The data volume is unsigned: its state directory is used only as a real directory, never through a symlink.
        if (Files.Status(stateDirectory) is { IsDirectory: true })
        {
            try
            {
                AppendOnlyLog.AppendLine(Path.Combine(stateDirectory, FileName), $"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} {entry}");
            }
            catch (Exception e) when (e is SysException or IOException)
            {
                WriteKernelLog($"initos admin: the audit file in {stateDirectory} could not be written: {e.Message}");
            }
        }
    }

    private static void WriteKernelLog(string line)
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
            // No kernel log to write to (a test host without /dev/kmsg access): the audit file still has it.
        }
    }
}

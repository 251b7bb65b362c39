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
        KernelLogLine.Write(entry);
        // The data volume is unsigned: its state directory is used only as a real directory, never through a symlink.
        if (Files.Status(stateDirectory) is { IsDirectory: true })
        {
            try
            {
                AppendOnlyLog.AppendLine(Path.Combine(stateDirectory, FileName), $"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} {entry}");
            }
            catch (Exception e) when (e is SysException or IOException)
            {
                KernelLogLine.Write($"initos admin: the audit file in {stateDirectory} could not be written: {e.Message}");
            }
        }
    }
}

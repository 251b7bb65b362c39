using System.Globalization;

namespace InitOs.Sys;

/// <summary>
/// /proc/PID/stat, the fields InitOS reads: "pid (comm) state ppid … starttime". The command
/// name may hold spaces and parentheses, so the fields after it count from the last ')'.
/// </summary>
public readonly record struct ProcStat(int Pid, string Name, char State, int ParentPid, ulong StartTime)
{
    /// <summary>Z (zombie) or X (dead): ended, whatever its entry still says.</summary>
    public bool Ended => State is 'Z' or 'X';

    /// <summary>The process's entry now; null when it is gone (or the text makes no sense).</summary>
    public static ProcStat? Read(int pid, string proc = "/proc")
    {
        try
        {
            return Parse(pid, File.ReadAllText($"{proc}/{pid}/stat"));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static ProcStat? Parse(int pid, string stat)
    {
        int open = stat.IndexOf('(', StringComparison.Ordinal), close = stat.LastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= stat.Length)
        {
            return null;
        }
        // After ") ": state (field 3), ppid (4), …, starttime (22).
        var fields = stat[(close + 2)..].Split(' ');
        return fields.Length > 19
            && int.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parent)
            && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)
            ? new ProcStat(pid, stat[(open + 1)..close], fields[0].FirstOrDefault(), parent, start)
            : null;
    }
}

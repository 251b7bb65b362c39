using System.Globalization;
using InitOs.Sys;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// Keeps the admin door up when the OS runs away. The door (and so every session it starts)
/// gets oom_score_adj -900, so the kernel's OOM killer takes nearly anything else first, and a
/// cgroup of its own beside the jails' (initos/sidecar) with memory.low, so its pages are the
/// last reclaimed, and a cpu.weight ten times the default, so a busy OS leaves it CPU. The OS's
/// own cgroup has memory.max and pids.max ([os], OsLimits): its fork bomb and its OOM stay inside.
/// Each step is best effort and said when it fails: a door without protection is better than none.
/// </summary>
public static class DoorProtection
{
    public const string CgroupPath = "initos/sidecar";
    public const int OomScoreAdjust = -900;
    public const string MemoryLow = "64M";
    public const string CpuWeight = "1000";
    private const long Cgroup2Magic = 0x63677270;

    public static void Apply(Action<string> log, string cgroupRoot = "/sys/fs/cgroup", string procSelf = "/proc/self")
    {
        Try(log, "oom_score_adj", () => File.WriteAllText(Path.Combine(procSelf, "oom_score_adj"), OomScoreAdjust.ToString(CultureInfo.InvariantCulture)));
        if (!IsCgroup2(cgroupRoot))
        {
            log($"ssh-door: {cgroupRoot} is not cgroup2; the door stays in its cgroup");
            return;
        }
        var parent = Path.Combine(cgroupRoot, Path.GetDirectoryName(CgroupPath)!);
        var own = Path.Combine(cgroupRoot, CgroupPath);
        Directory.CreateDirectory(own);
        foreach (var controller in new[] { "memory", "cpu" })
        {
            // Enabled one at a time: a controller the kernel lacks must not keep the other off.
            Try(log, $"+{controller} for {parent}", () =>
            {
                File.WriteAllText(Path.Combine(cgroupRoot, "cgroup.subtree_control"), "+" + controller);
                File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+" + controller);
            });
        }
        Try(log, "memory.low", () => File.WriteAllText(Path.Combine(own, "memory.low"), MemoryLow));
        Try(log, "cpu.weight", () => File.WriteAllText(Path.Combine(own, "cpu.weight"), CpuWeight));
        Try(log, $"joining {own}", () => File.WriteAllText(Path.Combine(own, "cgroup.procs"), Processes.CurrentPid.ToString(CultureInfo.InvariantCulture)));
    }

    private static void Try(Action<string> log, string what, Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"ssh-door: {what}: {e.Message}");
        }
    }

    private static bool IsCgroup2(string root)
    {
        try
        {
            return FileSystems.Status(root).Type == Cgroup2Magic;
        }
        catch (SysException)
        {
            return false;
        }
    }
}

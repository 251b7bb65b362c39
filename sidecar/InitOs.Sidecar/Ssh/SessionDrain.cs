using System.Diagnostics;
using System.Globalization;
using InitOs.Init.Logging;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// When the sidecar is told to stop (systemd stopping its unit on the way down, start =
/// "after-init"), admin sessions already running may finish first, for at most a few seconds:
/// the session that asked for the reboot is waiting for proof that systemd is going down, and
/// stopping the door at once would cut its answer off. A session is a dropbear process under
/// the sidecar (the door runs one per connection).
/// </summary>
public static class SessionDrain
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    public readonly record struct ProcessEntry(int Pid, int ParentPid, string Name);

    public static void Wait(BootLog log, int sidecarPid, string proc = "/proc")
    {
        var clock = Stopwatch.StartNew();
        int sessions = Sessions(Read(proc), sidecarPid);
        if (sessions == 0)
        {
            return;
        }
        log.Info($"sidecar: letting {sessions} admin session(s) finish (at most {Limit.TotalSeconds:0} s)");
        while (clock.Elapsed < Limit && Sessions(Read(proc), sidecarPid) > 0)
        {
            Thread.Sleep(100);
        }
    }

    /// <summary>The dropbear processes among <paramref name="root"/>'s descendants.</summary>
    public static int Sessions(IReadOnlyList<ProcessEntry> processes, int root)
    {
        var children = processes.ToLookup(p => p.ParentPid);
        int count = 0;
        var pending = new Stack<int>([root]);
        while (pending.Count > 0)
        {
            foreach (var child in children[pending.Pop()])
            {
                count += child.Name == "dropbear" ? 1 : 0;
                pending.Push(child.Pid);
            }
        }
        return count;
    }

    /// <summary>Every process's pid, parent and name, from /proc.</summary>
    public static IReadOnlyList<ProcessEntry> Read(string proc)
    {
        var entries = new List<ProcessEntry>();
        foreach (var directory in Directory.EnumerateDirectories(proc))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && Sys.ProcStat.Read(pid, proc) is { } stat)
            {
                entries.Add(new ProcessEntry(pid, stat.ParentPid, stat.Name));
            }
        }
        return entries;
    }
}

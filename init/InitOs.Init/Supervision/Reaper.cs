using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// The one caller of waitpid in PID 1. Every exit is collected here; an exit that some code
/// is waiting for (a service, the emergency shell) is handed to that code's callback, any
/// other is an orphan and is only counted. Spawning and registering happen under the same
/// lock as reaping, so a child that dies at once is never reaped before its watcher exists.
/// </summary>
public sealed class Reaper
{
    private readonly object _gate = new();
    private readonly Dictionary<int, Action<ChildExit>> _watchers = [];
    private readonly Action<ChildExit>? _onOrphan;
    private long _orphans;

    // Reused per reaping thread: PID 1 reaps for as long as the machine runs, and a steady
    // state that allocates nothing keeps its resident memory flat (see the churn test).
    [ThreadStatic]
    private static List<(Action<ChildExit>, ChildExit)>? t_handed;

    /// <param name="onOrphan">Told about each reaped child nobody waited for (tini's -w warning).</param>
    public Reaper(Action<ChildExit>? onOrphan = null) => _onOrphan = onOrphan;

    public long OrphansReaped => Interlocked.Read(ref _orphans);

    /// <summary>Starts a child with <paramref name="start"/> and registers <paramref name="onExit"/> for it atomically.</summary>
    public int Start(Func<int> start, Action<ChildExit> onExit)
    {
        lock (_gate)
        {
            int pid = start();
            _watchers[pid] = onExit;
            return pid;
        }
    }

    /// <summary>Starts a child and blocks until it ends, while the reaper thread keeps reaping others.</summary>
    public ChildExit Run(Func<int> start)
    {
        using var done = new ManualResetEventSlim();
        ChildExit result = default;
        Start(start, exit =>
        {
            result = exit;
            done.Set();
        });
        done.Wait();
        return result;
    }

    /// <summary>Collects every child that has exited; callbacks run after the lock is released.</summary>
    public int ReapAvailable()
    {
        var handed = t_handed ??= [];
        handed.Clear();
        int count = 0;
        lock (_gate)
        {
            while (Processes.Wait(noHang: true) is { } exit)
            {
                count++;
                if (_watchers.Remove(exit.Pid, out var watcher))
                {
                    handed.Add((watcher, exit));
                }
                else
                {
                    Interlocked.Increment(ref _orphans);
                    if (_onOrphan is { } tell)
                    {
                        handed.Add((tell, exit));
                    }
                }
            }
        }
        foreach (var (watcher, exit) in handed)
        {
            watcher(exit);
        }
        handed.Clear();
        return count;
    }
}

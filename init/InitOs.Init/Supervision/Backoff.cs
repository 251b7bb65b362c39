namespace InitOs.Init.Supervision;

/// <summary>
/// When to start a service again: exponential backoff on consecutive failures, reset by a
/// run long enough to count as healthy, and a crash-loop brake when starts pile up.
/// Pure arithmetic on times given by the caller, so it is tested without waiting.
/// </summary>
public sealed class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan HealthyRun = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LoopWindow = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan LoopPause = TimeSpan.FromSeconds(60);
    public const int LoopStarts = 5;

    private readonly Queue<TimeSpan> _recentStarts = new();
    private int _failures;

    public int ConsecutiveFailures => _failures;

    public void Started(TimeSpan now)
    {
        _recentStarts.Enqueue(now);
        while (_recentStarts.Count > 0 && now - _recentStarts.Peek() > LoopWindow)
        {
            _recentStarts.Dequeue();
        }
    }

    /// <summary>The delay before the next start after an exit at <paramref name="now"/> of a run that began at <paramref name="startedAt"/>.</summary>
    public (TimeSpan Delay, bool CrashLoop) AfterExit(TimeSpan startedAt, TimeSpan now)
    {
        _failures = now - startedAt >= HealthyRun ? 1 : _failures + 1;
        if (_recentStarts.Count >= LoopStarts)
        {
            _recentStarts.Clear();
            return (LoopPause, true);
        }
        var delay = TimeSpan.FromTicks(First.Ticks << Math.Min(_failures - 1, 20));
        return (delay < Max ? delay : Max, false);
    }
}

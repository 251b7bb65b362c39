using InitOs.Admin.Rollouts;

namespace InitOs.TestKit;

/// <summary>A rollout's clock that moves only when slept on (at once) or moved by the test.</summary>
public sealed class ManualClock(DateTimeOffset start) : IRolloutClock
{
    private readonly object _lock = new();
    private DateTimeOffset _now = start;

    public DateTimeOffset Now
    {
        get
        {
            lock (_lock)
            {
                return _now;
            }
        }
    }

    public void Sleep(TimeSpan time)
    {
        lock (_lock)
        {
            _now += time > TimeSpan.Zero ? time : TimeSpan.Zero;
        }
    }
}

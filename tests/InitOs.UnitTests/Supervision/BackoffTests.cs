using InitOs.Init.Supervision;

namespace InitOs.UnitTests.Supervision;

public sealed class BackoffTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Delays_double_per_quick_failure_up_to_the_cap()
    {
        var backoff = new Backoff();
        var delays = new List<TimeSpan>();
        var now = S(0);
        for (int i = 0; i < 12; i++)
        {
            backoff.Started(now);
            var (delay, _) = backoff.AfterExit(now, now + S(0.01));
            delays.Add(delay);
            now += S(100); // spread out so the crash-loop window never fills
        }
        Assert.Equal([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30, 30], delays.Select(d => Math.Round(d.TotalSeconds, 1)));
    }

    [Fact]
    public void A_healthy_run_resets_the_backoff()
    {
        var backoff = new Backoff();
        backoff.Started(S(0));
        backoff.AfterExit(S(0), S(0.1));
        backoff.Started(S(100));
        backoff.AfterExit(S(100), S(100.1));
        backoff.Started(S(200));
        var (delay, _) = backoff.AfterExit(S(200), S(200) + Backoff.HealthyRun);
        Assert.Equal(Backoff.First, delay);
    }

    [Fact]
    public void Five_starts_within_the_window_is_a_crash_loop_with_a_long_pause()
    {
        var backoff = new Backoff();
        var results = new List<bool>();
        for (int i = 0; i < Backoff.LoopStarts; i++)
        {
            backoff.Started(S(i));
            results.Add(backoff.AfterExit(S(i), S(i + 0.1)).CrashLoop);
        }
        Assert.Equal([false, false, false, false, true], results);
        backoff.Started(S(200));
        Assert.False(backoff.AfterExit(S(200), S(200.1)).CrashLoop);
    }
}

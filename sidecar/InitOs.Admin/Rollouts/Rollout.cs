namespace InitOs.Admin.Rollouts;

/// <summary>Time as the rollout sees it: the real clock, or a test's that moves only when slept on.</summary>
public interface IRolloutClock
{
    DateTimeOffset Now { get; }

    void Sleep(TimeSpan time);
}

public sealed class SystemClock : IRolloutClock
{
    public DateTimeOffset Now => DateTimeOffset.UtcNow;

    public void Sleep(TimeSpan time)
    {
        if (time > TimeSpan.Zero)
        {
            Thread.Sleep(time);
        }
    }
}

/// <summary>A host of the rollout: where it is, and the version it is pinned to (left alone), if any.</summary>
public sealed record RolloutHost(AdminTarget Target, string? Pin = null)
{
    public string Name => Target.ToString();
}

/// <summary>How one host's upgrade ended: upgraded (to the version it now reports), or failed with why.</summary>
public sealed record HostOutcome(bool Upgraded, string? Version, string? Error)
{
    public static HostOutcome Success(string version) => new(true, version, null);

    public static HostOutcome Failure(string error, string? version = null) => new(false, version, error);
}

public sealed record RolloutOptions(string To, string Waves, int MaxParallel = 4, int HaltAfter = 1, MaintenanceWindow? Window = null, TimeSpan Jitter = default);

/// <summary>
/// A rollout in waves. The hosts not pinned are split into waves by the hosts file's order; a
/// wave starts when the one before it ended with fewer than halt-after failures in all; inside a
/// wave at most max-parallel hosts run at once, and a host starts only while the window is
/// open (after a jitter drawn per host, so a window's opening is not a stampede). A failed host
/// is left as it is (it rolled itself back) and counted; at halt-after failures no host starts
/// again, and the rollout says it halted. Every change is written to the state file at once;
/// running the rollout again with it resumes: upgraded and failed hosts stay, the rest go on.
/// </summary>
public sealed class Rollout(RolloutOptions options, IRolloutClock clock, Func<RolloutHost, HostOutcome> upgrade, Action<string>? log = null)
{
    public RolloutState Run(IReadOnlyList<RolloutHost> hosts, string? statePath)
    {
        if (options.MaxParallel < 1 || options.HaltAfter < 1)
        {
            throw new ArgumentException($"--max-parallel {options.MaxParallel} and --halt-after {options.HaltAfter}: both must be at least 1");
        }
        var state = Prepare(hosts, statePath);
        int waves = state.Hosts.Count == 0 ? 0 : state.Hosts.Max(h => h.Wave);
        for (int wave = 1; wave <= waves && !state.Halted; wave++)
        {
            var todo = hosts.Where(h => state.Get(h.Name) is { Wave: var w, State: HostState.Pending or HostState.Running } && w == wave).ToList();
            if (todo.Count > 0)
            {
                log?.Invoke($"wave {wave}: {todo.Count} hosts");
                RunWave(todo, state, statePath);
            }
            if (state.Failures >= options.HaltAfter)
            {
                state.Halted = true;
                log?.Invoke($"halted after {state.Failures} failed hosts (--halt-after {options.HaltAfter}); no host starts again");
            }
        }
        if (statePath is not null)
        {
            state.Save(statePath);
        }
        return state;
    }

    private RolloutState Prepare(IReadOnlyList<RolloutHost> hosts, string? statePath)
    {
        var eligible = hosts.Where(h => h.Pin is null).ToList();
        var reach = eligible.Count == 0 ? [] : RolloutWaves.Reach(options.Waves, eligible.Count);
        int WaveOf(RolloutHost host) => host.Pin is not null ? 0 : reach.TakeWhile(r => r <= eligible.IndexOf(host)).Count() + 1;
        if (statePath is not null && File.Exists(statePath))
        {
            var saved = RolloutState.Load(statePath);
            if (saved.To != options.To)
            {
                throw new ArgumentException($"{statePath}: the state of a rollout to {saved.To}, not {options.To}; give another --state for a new rollout");
            }
            // Hosts added to the file since join; a stopped rollout's running hosts run again (their status says where they are).
            var records = hosts.Select(h => saved.Hosts.FirstOrDefault(r => r.Host == h.Name) is { } r
                ? r.State == HostState.Running ? r with { State = HostState.Pending } : r
                : new HostRecord(h.Name, WaveOf(h), h.Pin is null ? HostState.Pending : HostState.Pinned, h.Pin)).ToList();
            return new RolloutState(options.To, options.Waves, records) { Halted = saved.Failures >= options.HaltAfter };
        }
        var state = new RolloutState(options.To, options.Waves, hosts.Select(h => new HostRecord(h.Name, WaveOf(h), h.Pin is null ? HostState.Pending : HostState.Pinned, h.Pin, h.Pin is null ? null : $"pinned to {h.Pin}")));
        if (statePath is not null)
        {
            state.Save(statePath);
        }
        return state;
    }

    /// <summary>The dispatcher waits for a free place, the window and the host's jitter, then hands the host to a worker.</summary>
    private void RunWave(List<RolloutHost> todo, RolloutState state, string? statePath)
    {
        using var places = new SemaphoreSlim(options.MaxParallel);
        var running = new List<Task>();
        foreach (var host in todo)
        {
            places.Wait();
            if (state.Failures >= options.HaltAfter)
            {
                places.Release();
                break;
            }
            // The start is the instant the window was seen open, not a later reading of the clock.
            var started = WaitForWindow(host);
            if (state.Failures >= options.HaltAfter)
            {
                places.Release();
                break;
            }
            state.Update(host.Name, r => r with { State = HostState.Running, Started = started, Error = null }, statePath);
            log?.Invoke($"{host.Name}: upgrading to {options.To}");
            running.Add(Task.Run(() =>
            {
                try
                {
                    var outcome = Outcome(host);
                    state.Update(host.Name, r => r with
                    {
                        State = outcome.Upgraded ? HostState.Upgraded : HostState.Failed,
                        Version = outcome.Version ?? r.Version,
                        Error = outcome.Error,
                        Finished = clock.Now,
                    }, statePath);
                    log?.Invoke($"{host.Name}: {(outcome.Upgraded ? $"upgraded ({outcome.Version})" : $"FAILED: {outcome.Error}")}");
                }
                finally
                {
                    places.Release();
                }
            }));
        }
        Task.WaitAll(running);
    }

    private HostOutcome Outcome(RolloutHost host)
    {
        try
        {
            return upgrade(host);
        }
        catch (Exception e)
        {
            return HostOutcome.Failure(e.Message);
        }
    }

    /// <summary>Until the window is open, then the host's jitter, and the window again (the jitter may have run past its end); the instant it was seen open.</summary>
    private DateTimeOffset WaitForWindow(RolloutHost host)
    {
        var jitter = Jitter(host);
        while (true)
        {
            if (options.Window is { } window && !window.IsOpen(clock.Now))
            {
                var opens = window.NextOpening(clock.Now);
                log?.Invoke($"{host.Name}: waiting for the window {window.Text} (opens {opens:u})");
                clock.Sleep(opens - clock.Now);
            }
            if (jitter > TimeSpan.Zero)
            {
                clock.Sleep(jitter);
                jitter = TimeSpan.Zero;
                continue;
            }
            var now = clock.Now;
            if (options.Window is null || options.Window.IsOpen(now))
            {
                return now;
            }
        }
    }

    /// <summary>A delay in [0, jitter) from the host's name: the same host waits the same on a re-run.</summary>
    private TimeSpan Jitter(RolloutHost host)
    {
        if (options.Jitter <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        uint hash = 2166136261;
        foreach (var c in host.Name)
        {
            hash = (hash ^ c) * 16777619;
        }
        return TimeSpan.FromMilliseconds(hash % (uint)Math.Max(1, options.Jitter.TotalMilliseconds));
    }
}

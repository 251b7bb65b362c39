using InitOs.Admin;
using InitOs.Admin.Rollouts;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>
/// The rollout's scheduling, with a clock the test moves and hosts whose upgrade the test
/// decides: waves in order, never more than K at once, no start outside the window, pinned hosts
/// untouched, a halt after N failures, and a resumed rollout finishing the rest from its state
/// file. (The rollout against real sidecars is the fleet test's.)
/// </summary>
public sealed class RolloutTests : IDisposable
{
    private static readonly DateTimeOffset Friday = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("initos-rollout-");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("1,10,50,100%", 20, new[] { 1, 2, 10, 20 })]
    [InlineData("1,10,50,100%", 200, new[] { 2, 20, 100, 200 })]
    [InlineData("1%,100%", 20, new[] { 1, 20 })]
    [InlineData("5,50,100", 20, new[] { 1, 10, 20 })]
    [InlineData("100%", 3, new[] { 3 })]
    public void Waves_reach_hosts_cumulatively(string spec, int hosts, int[] reach) => Assert.Equal(reach, RolloutWaves.Reach(spec, hosts));

    [Theory]
    [InlineData("10,5,100%", "fewer than the wave before it")]
    [InlineData("1,50%", "end with 100%")]
    [InlineData("1,ten,100%", "is not a share of the hosts from 1 to 100")]
    [InlineData("1,150%", "is not a share of the hosts from 1 to 100")]
    public void Bad_waves_are_refused_by_name(string spec, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => RolloutWaves.Reach(spec, 20)).Message, StringComparison.Ordinal);

    [Fact]
    public void A_window_opens_on_its_days_and_may_cross_midnight()
    {
        var saturday = MaintenanceWindow.Parse("Sat 02:00-05:00");
        Assert.False(saturday.IsOpen(Friday));
        Assert.True(saturday.IsOpen(Friday.AddHours(15))); // Sat 03:00
        Assert.False(saturday.IsOpen(Friday.AddHours(17))); // Sat 05:00
        Assert.Equal(Friday.AddHours(14), saturday.NextOpening(Friday));
        Assert.Equal(Friday.AddDays(7).AddHours(14), saturday.NextOpening(Friday.AddHours(18)));
        var nights = MaintenanceWindow.Parse("Mon-Fri 22:00-02:00");
        Assert.True(nights.IsOpen(Friday.AddHours(13))); // Sat 01:00, Friday's night
        Assert.False(nights.IsOpen(Friday.AddDays(1).AddHours(13))); // Sun 01:00
        Assert.True(MaintenanceWindow.Parse("00:00-23:59").IsOpen(Friday));
        Assert.Contains("is not a day", Assert.Throws<ArgumentException>(() => MaintenanceWindow.Parse("Someday 02:00-05:00")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Waves_run_in_order_inside_the_window_at_most_k_at_once_and_leave_pinned_hosts_alone()
    {
        var hosts = Hosts(20, pinned: [4, 11]);
        var clock = new ManualClock(Friday);
        var starts = new List<(string Host, DateTimeOffset At)>();
        var finished = new List<string>();
        int now = 0, most = 0;
        var options = new RolloutOptions("r.example/os:2.0", "1,50,100%", MaxParallel: 3, HaltAfter: 1, MaintenanceWindow.Parse("Sat 02:00-05:00"), TimeSpan.FromMinutes(2));
        var state = new Rollout(options, clock, host =>
        {
            lock (starts)
            {
                starts.Add((host.Name, clock.Now));
                most = Math.Max(most, ++now);
            }
            Thread.Sleep(20);
            clock.Sleep(TimeSpan.FromMinutes(15));
            lock (starts)
            {
                now--;
                finished.Add(host.Name);
            }
            return HostOutcome.Success("2.0");
        }).Run(hosts, _dir.File("rollout.json"));

        Assert.Equal(18, starts.Count);
        // When each host was started: the instant the rollout saw the window open (its workers run on while the test's clock moves).
        var started = state.Hosts.Where(h => h.Started is not null).Select(h => (h.Host, At: h.Started!.Value)).ToList();
        Assert.Equal(18, started.Count);
        Assert.All(started, s => Assert.True(options.Window!.IsOpen(s.At), $"{s.Host} started at {s.At:u}, outside the window"));
        Assert.InRange(most, 1, 3); // never more than K (how many overlapped depends on the thread pool)
        Assert.Equal(["root@h5:22", "root@h12:22"], state.Hosts.Where(h => h.State == HostState.Pinned).Select(h => h.Host));
        Assert.DoesNotContain(starts, s => s.Host is "root@h5:22" or "root@h12:22");
        // Wave 1 is the first host (1% of 18, rounded up); wave 2 reaches 9 (50%); every one of a wave ends before the next wave starts.
        var waveOf = state.Hosts.ToDictionary(h => h.Host, h => h.Wave);
        Assert.Equal(1, state.Hosts.Count(h => h.Wave == 1));
        Assert.Equal(8, state.Hosts.Count(h => h.Wave == 2));
        for (int i = 1; i < starts.Count; i++)
        {
            Assert.True(waveOf[starts[i].Host] >= waveOf[starts[i - 1].Host], "a host of an earlier wave started after a later wave's");
        }
        // Wave 1's one host had finished before wave 2's first started.
        Assert.Equal(finished[0], starts[0].Host);
        Assert.True(started.Single(s => s.Host == starts[0].Host).At < started.Where(s => waveOf[s.Host] == 2).Min(s => s.At));
        // The rollout outlived one window (18 hosts × 15 min, 3 at a time, cannot fit in 3 hours): later hosts waited for the next Saturday.
        Assert.Contains(started, s => s.At > Friday.AddDays(7));
        Assert.All(state.Hosts.Where(h => h.State != HostState.Pinned), h => Assert.Equal((HostState.Upgraded, "2.0"), (h.State, h.Version)));
        Assert.Equal(state.ToJson(), RolloutState.Load(_dir.File("rollout.json")).ToJson());
    }

    [Fact]
    public void The_rollout_halts_after_n_failures_and_a_resumed_one_finishes_the_rest()
    {
        var hosts = Hosts(10);
        var path = _dir.File("rollout.json");
        var tried = new List<string>();
        HostOutcome Flaky(RolloutHost host)
        {
            lock (tried)
            {
                tried.Add(host.Name);
            }
            return host.Name is "root@h3:22" or "root@h5:22" ? HostOutcome.Failure("2.0 was judged bad; the host rolled back to 1.0 by itself", "1.0") : HostOutcome.Success("2.0");
        }
        var options = new RolloutOptions("r.example/os:2.0", "20,100%", MaxParallel: 1, HaltAfter: 2);
        var halted = new Rollout(options, new ManualClock(Friday), Flaky).Run(hosts, path);
        Assert.True(halted.Halted);
        Assert.Equal(["root@h1:22", "root@h2:22", "root@h3:22", "root@h4:22", "root@h5:22"], tried);
        Assert.Equal(5, halted.Hosts.Count(h => h.State == HostState.Pending));
        Assert.Contains("rolled back to 1.0", halted.Hosts.Single(h => h.Host == "root@h3:22").Error, StringComparison.Ordinal);
        Assert.Contains("HALTED", halted.Table(), StringComparison.Ordinal);

        // Run again as it was: still halted, nothing starts.
        tried.Clear();
        Assert.True(new Rollout(options, new ManualClock(Friday), Flaky).Run(hosts, path).Halted);
        Assert.Empty(tried);

        // The admin looked at the two and allows more failures: the rest go on; the failed two are left as they are.
        var resumed = new Rollout(options with { HaltAfter = 5 }, new ManualClock(Friday), Flaky).Run(hosts, path);
        Assert.False(resumed.Halted);
        Assert.Equal(["root@h6:22", "root@h7:22", "root@h8:22", "root@h9:22", "root@h10:22"], tried);
        Assert.Equal((8, 2), (resumed.Hosts.Count(h => h.State == HostState.Upgraded), resumed.Failures));

        var other = Assert.Throws<ArgumentException>(() => new Rollout(options with { To = "r.example/os:3.0" }, new ManualClock(Friday), Flaky).Run(hosts, path));
        Assert.Contains("the state of a rollout to r.example/os:2.0, not r.example/os:3.0", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_running_when_the_rollout_stopped_runs_again_and_the_hosts_file_names_pins_by_line()
    {
        var hosts = Hosts(3);
        var path = _dir.File("rollout.json");
        var options = new RolloutOptions("r.example/os:2.0", "100%", MaxParallel: 1);
        var crashed = new RolloutState(options.To, options.Waves, [
            new HostRecord("root@h1:22", 1, HostState.Upgraded, "2.0"),
            new HostRecord("root@h2:22", 1, HostState.Running),
            new HostRecord("root@h3:22", 1, HostState.Pending),
        ]);
        crashed.Save(path);
        var tried = new List<string>();
        var state = new Rollout(options, new ManualClock(Friday), h => { tried.Add(h.Name); return HostOutcome.Success("2.0"); }).Run(hosts, path);
        Assert.Equal(["root@h2:22", "root@h3:22"], tried);
        Assert.All(state.Hosts, h => Assert.Equal(HostState.Upgraded, h.State));

        var file = _dir.File("hosts");
        File.WriteAllText(file, "# rack 1\n10.0.0.1\nadmin@10.0.0.2:2222 pin=1.0\n10.0.0.3 color=red\n");
        var error = Assert.Throws<ArgumentException>(() => Fleet.ReadLines(file));
        Assert.StartsWith($"{file}:4: \"color=red\" is not an option of a host", error.Message, StringComparison.Ordinal);
        File.WriteAllText(file, "# rack 1\n10.0.0.1\nadmin@10.0.0.2:2222 pin=1.0\n");
        var lines = Fleet.ReadLines(file);
        Assert.Equal("1.0", lines[1].Options["pin"]);
        Assert.Equal("admin@10.0.0.2:2222", lines[1].Target.ToString());
    }

    private static List<RolloutHost> Hosts(int count, int[]? pinned = null) =>
        Enumerable.Range(0, count).Select(i => new RolloutHost(new AdminTarget($"h{i + 1}"), pinned?.Contains(i) == true ? "1.0" : null)).ToList();
}

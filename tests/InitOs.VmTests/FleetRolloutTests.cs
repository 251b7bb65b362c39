using System.Globalization;
using InitOs.Admin;
using InitOs.Admin.Rollouts;
using InitOs.ImageBuild.Bundle;
using InitOs.Init.Config;
using InitOs.Sidecar.Registry;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A rollout at scale: 20 simulated machines (tests/fleet-sim: network namespaces running the real
/// sidecar against a directory standing in for the ESP, a stand-in firmware counting boots as
/// systemd-boot does), a registry on the fleet's bridge, and the rollout engine driving `upgrade
/// apply --from` over ssh on each. Each machine fetches 2.0, reboots into its trial, and its own
/// judge blesses it, or, where 2.0's OS does not come up, marks it bad and the firmware goes back
/// to 1.0. Runs with the boots (not beside them: it is 20 machines on 2 cores).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class FleetRolloutTests : IDisposable
{
    private const string MachineClass = "fleet-sim";
    private const string Window = "Sat 02:00-05:00";
    /// <summary>Saturday 5 December 2026, 01:30 UTC: half an hour before the window opens.</summary>
    private static readonly DateTimeOffset BeforeTheWindow = new(2026, 12, 5, 1, 30, 0, TimeSpan.Zero);
    /// <summary>How long each host's upgrade takes by the rollout's clock: a window holds about five, the 16 need four.</summary>
    private static readonly TimeSpan HostUpgradeTime = TimeSpan.FromMinutes(40);

    private static readonly string[] Pinned = ["h03", "h17"];
    private static readonly string[] Failing = ["h06", "h08"];
    private const int MaxParallel = 4;

    private readonly TempDirectory _scratch = new("initos-fleet-rollout-");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Twenty_machines_upgrade_in_waves_inside_the_window_at_most_k_at_once_halt_on_failures_and_resume()
    {
        var release = Key("release");
        var admin = Key("admin");
        var v1 = TestUki.Write(_scratch.File("initos-1.0.efi"), "1.0");
        var v2 = TestUki.Write(_scratch.File("initos-2.0.efi"), "2.0");
        var bundle = _scratch.File("2.0.tar");
        BundleWriter.Write(new BundleSpec("2.0", MachineClass, "1.0", v2, [], release), bundle);

        using var fleet = new SimulatedFleet();
        var names = Enumerable.Range(1, 20).Select(i => $"h{i:D2}").ToList();
        var configs = new Dictionary<string, string> { ["1.0"] = Config("1.0", release, admin), ["2.0"] = Config("2.0", release, admin) };
        var adminKey = new AdminKey { Key = File.ReadAllText(admin + ".pub").Trim(), Role = AdminRole.Admin };
        foreach (var name in names)
        {
            fleet.Add(name, "1.0", v1, configs, adminKey, Failing.Contains(name) ? ["2.0"] : []);
        }
        fleet.Start();
        using var registry = new LocalRegistry(host: SimulatedFleet.Gateway);
        var reference = ImageReference.Parse($"{registry.Address}/initos/fleet:2.0");
        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { PlainHttpHosts = [SimulatedFleet.Gateway] }))
        {
            BundlePush.Push(bundle, reference, workstation);
        }

        var client = new AdminClient(admin, new KnownHosts(_scratch.File("known_hosts")), TimeSpan.FromSeconds(60));
        var hosts = names.Select(n => new RolloutHost(new AdminTarget(fleet.Address(n)), Pinned.Contains(n) ? "1.0" : null)).ToList();
        string NameOf(string host) => names.Single(n => host == new AdminTarget(fleet.Address(n)).ToString());
        foreach (var host in hosts)
        {
            var status = AdminSessions.RunWhenUp(client, host.Target, "upgrade status");
            Assert.True(status.Succeeded, $"{NameOf(host.Name)}: {status}");
        }
        var pinnedBefore = Pinned.ToDictionary(n => n, fleet.Entries);
        var upgrader = new AdminUpgrader(client, reference.ToString(), "2.0", waitForBlessing: true, TimeSpan.FromSeconds(120), _ => Thread.Sleep(500));
        var statePath = _scratch.File("rollout.json");
        // The rollout's clock: half an hour before the window, then 40 minutes more for each host's upgrade.
        var log = new List<string>();

        // First run: waves 10, 50, 100% of the 18 hosts not pinned (2, 7, 9); two of wave 2 fail.
        var clock = new ManualClock(BeforeTheWindow);
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var options = new RolloutOptions(reference.ToString(), "10,50,100%", MaxParallel, HaltAfter: 2, MaintenanceWindow.Parse(Window));
        var halted = new Rollout(options, clock, UpgradeTaking(upgrader, clock), line => { lock (log) { log.Add(line); } }).Run(hosts, statePath);

        var firstRun = wall.Elapsed;
        var report = string.Join('\n', log) + "\n" + halted.Table();
        Assert.True(halted.Halted, report);
        var failed = halted.Hosts.Where(h => h.State == HostState.Failed).Select(h => NameOf(h.Host)).Order().ToList();
        Assert.True(Failing.Order().SequenceEqual(failed), $"failed: {string.Join(' ', failed)}\n{report}");
        Assert.All(halted.Hosts.Where(h => h.Wave == 3), h => Assert.Equal(HostState.Pending, h.State));
        Assert.All(halted.Hosts.Where(h => h.Started is not null), h => Assert.True(MaintenanceWindow.Parse(Window).IsOpen(h.Started!.Value), $"{h.Host} started at {h.Started:u}, outside {Window}"));
        Assert.All(halted.Hosts.Where(h => h.Wave == 1), h => Assert.Equal(HostState.Upgraded, h.State));
        foreach (var name in Failing)
        {
            // Each failed host rolled back by itself: its trial judged bad, 1.0 running again.
            Assert.Contains("initos-2.0+0-1.efi", fleet.Entries(name));
            Assert.Contains(fleet.Log(name), l => l.Contains("upgrade: verdict on 2.0: bad", StringComparison.Ordinal));
            Assert.Contains(fleet.Log(name), l => l.Contains("upgrade: running 1.0, a good version", StringComparison.Ordinal));
        }

        // Second run, from the state file, with a higher brake: the pending hosts go on, the failed
        // ones stay as they are.
        wall.Restart();
        var resumed = new Rollout(options with { HaltAfter = 3 }, clock, UpgradeTaking(upgrader, clock), line => { lock (log) { log.Add(line); } }).Run(hosts, statePath);
        var secondRun = wall.Elapsed;
        report = string.Join('\n', log) + "\n" + resumed.Table();
        File.WriteAllText(Path.Combine(RepoPaths.Artifacts, nameof(FleetRolloutTests) + ".last.log"), string.Create(CultureInfo.InvariantCulture,
            $"{report}\nfirst run (halted) {firstRun.TotalSeconds:F1} s, resumed run {secondRun.TotalSeconds:F1} s; most hosts upgrading at once by their logs: {MostAtOnce(fleet, names.Except(Pinned))}\n" +
            $"starts by the rollout's clock: {string.Join(", ", resumed.Hosts.Where(h => h.Started is not null).Select(h => $"{NameOf(h.Host)} {h.Started:ddd HH:mm}"))}\n"));
        Assert.False(resumed.Halted, report);
        foreach (var record in resumed.Hosts)
        {
            var name = NameOf(record.Host);
            var expected = Pinned.Contains(name) ? HostState.Pinned : Failing.Contains(name) ? HostState.Failed : HostState.Upgraded;
            Assert.True(expected == record.State, $"{name}: {record.State}, expected {expected}\n{report}");
            if (expected == HostState.Upgraded)
            {
                Assert.Equal(["initos-1.0.efi", "initos-2.0.efi"], fleet.Entries(name));
                Assert.Contains(fleet.Log(name), l => l.Contains("upgrade: verdict on 2.0: good", StringComparison.Ordinal));
            }
        }
        foreach (var name in Pinned)
        {
            Assert.Equal(pinnedBefore[name], fleet.Entries(name));
            Assert.Null(fleet.FirstLogged(name, "upgrade: fetching"));
        }
        // Every start inside a window, and the window closed on hosts that waited for the next one.
        var saturdays = resumed.Hosts.Where(h => h.Started is not null).Select(h => h.Started!.Value.Date).Distinct().Count();
        Assert.True(saturdays >= 3, $"the hosts started on {saturdays} Saturdays, expected at least 3\n{report}");
        Assert.All(resumed.Hosts.Where(h => h.Started is not null), h => Assert.True(MaintenanceWindow.Parse(Window).IsOpen(h.Started!.Value), $"{h.Host} started at {h.Started:u}, outside {Window}"));
        int most = MostAtOnce(fleet, names.Except(Pinned));
        Assert.True(most is > 1 and <= MaxParallel, $"{most} hosts were upgrading at once (by their logs), expected 2 to {MaxParallel}\n{report}");
    }

    /// <summary>A host's upgrade, after which the rollout's clock has moved on by <see cref="HostUpgradeTime"/>.</summary>
    private static Func<RolloutHost, HostOutcome> UpgradeTaking(AdminUpgrader upgrader, ManualClock clock) => host =>
    {
        var outcome = upgrader.Upgrade(host);
        clock.Sleep(HostUpgradeTime);
        return outcome;
    };

    /// <summary>
    /// The most hosts upgrading at once, by the machines' own logs: from the sidecar's first
    /// "fetching" to its judge's verdict.
    /// </summary>
    private static int MostAtOnce(SimulatedFleet fleet, IEnumerable<string> names)
    {
        var events = new List<(double At, int Change)>();
        foreach (var name in names)
        {
            var start = fleet.FirstLogged(name, "upgrade: fetching") ?? throw new InvalidOperationException($"{name}'s log has no 'upgrade: fetching'");
            var end = fleet.FirstLogged(name, "upgrade: verdict on 2.0") ?? throw new InvalidOperationException($"{name}'s log has no verdict on 2.0");
            events.Add((start, 1));
            events.Add((end, -1));
        }
        int now = 0, most = 0;
        foreach (var (_, change) in events.OrderBy(e => e.At).ThenBy(e => e.Change))
        {
            now += change;
            most = Math.Max(most, now);
        }
        return most;
    }

    /// <summary>
    /// The config a simulated machine's UKI of <paramref name="version"/> carries: the door on
    /// eth0 (a veth, which the door does not take for a network card unless named), the OS's web
    /// server as the probe.
    /// </summary>
    private static string Config(string version, string release, string admin) => $"""
        mode = "switch_root"

        [sidecar]
        ssh = true
        listen = ["eth0"]
        authorized_keys = ["{File.ReadAllText(admin + ".pub").Trim()}"]

        [upgrade]
        keys = ["{File.ReadAllText(release + ".pub").Trim()}"]
        compatible = "{MachineClass}"
        min_version = "1.0"
        version = "{version}"
        tries = 2
        settle_seconds = 1
        deadline_seconds = 15
        registry_plain_http = ["{SimulatedFleet.Gateway}"]

        [[upgrade.probe]]
        http = "http://127.0.0.1:8080/"
        """;

    private string Key(string name)
    {
        var path = _scratch.File(name);
        Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        return path;
    }
}

using System.CommandLine;
using InitOs.Admin;
using InitOs.Admin.Rollouts;
using InitOs.Sidecar.Registry;

namespace InitOs.Cli;

/// <summary>`initos fleet upgrade` and `initos fleet status`: a rollout in waves, and its state (docs/fleet.md).</summary>
internal static class RolloutCommands
{
    public static Command Upgrade()
    {
        var hosts = Cli.Option<string>("--hosts", "the hosts file: one host per line (host, host:port or user@host:port), optionally pin=VERSION (left alone); # comments");
        hosts.Required = true;
        var to = Cli.Option<string>("--to", "the bundle each machine fetches: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:… (`upgrade apply --from` on each host)");
        to.Required = true;
        var version = Cli.Option<string?>("--version", "the version the bundle installs (default: the tag of --to)");
        var waves = Cli.Option<string>("--waves", "how far each wave reaches, cumulatively, in percent of the hosts not pinned (rounded up: 1% is at least one host), e.g. 1,10,50,100%", () => "100%");
        var maxParallel = Cli.Option<int>("--max-parallel", "hosts upgrading at once", () => 4);
        var haltAfter = Cli.Option<int>("--halt-after", "failed hosts after which no host starts again", () => 1);
        var window = Cli.Option<string?>("--window", "when hosts may start, in UTC: [DAYS] HH:MM-HH:MM, e.g. \"Sat 02:00-05:00\"");
        var jitter = Cli.Option<int>("--jitter", "seconds: each host starts up to this much after its turn (the same for the same host)", () => 0);
        var state = Cli.Option<string>("--state", "the rollout's state file; running again with it resumes", () => "rollout.json");
        var verdict = Cli.Option<string>("--verdict", "blessed: wait until each host runs the new version blessed (a UKI: rebooted into it); staged: the bundle staged is enough", () => "blessed");
        var verdictTimeout = Cli.Option<int>("--verdict-timeout", "seconds a host has to reach its verdict", () => 900);
        var (key, knownHosts, timeout) = SshCommands.Common();
        var command = new Command("upgrade", "upgrade the hosts to a bundle in waves, within a window, at most K at once, halting after N failures; resumable")
        {
            hosts, to, version, waves, maxParallel, haltAfter, window, jitter, state, verdict, verdictTimeout, key, knownHosts, timeout,
        };
        command.SetAction(r =>
        {
            var reference = ImageReference.Parse(r.GetValue(to)!);
            var target = r.GetValue(version) ?? reference.Tag ?? throw new ArgumentException($"--to {reference}: a digest says no version; give --version");
            var blessed = r.GetValue(verdict) switch
            {
                "blessed" => true,
                "staged" => false,
                var other => throw new ArgumentException($"--verdict {other}: expected blessed or staged"),
            };
            var fleet = Fleet.ReadLines(r.GetValue(hosts)!).Select(l => new RolloutHost(l.Target, l.Options.GetValueOrDefault("pin"))).ToList();
            var options = new RolloutOptions(reference.ToString(), r.GetValue(waves)!, r.GetValue(maxParallel), r.GetValue(haltAfter),
                r.GetValue(window) is { } w ? MaintenanceWindow.Parse(w) : null, TimeSpan.FromSeconds(r.GetValue(jitter)));
            var client = SshCommands.Client(r.GetValue(key)!, r.GetValue(knownHosts)!, r.GetValue(timeout));
            var upgrader = new AdminUpgrader(client, reference.ToString(), target, blessed, TimeSpan.FromSeconds(r.GetValue(verdictTimeout)));
            var result = new Rollout(options, new SystemClock(), upgrader.Upgrade, line => Console.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {line}")).Run(fleet, r.GetValue(state));
            Console.WriteLine(result.Table());
            return result.Halted || result.Failures > 0 ? 1 : 0;
        });
        return command;
    }

    public static Command Status()
    {
        var state = Cli.Option<string>("--state", "the rollout's state file", () => "rollout.json");
        var json = Cli.Option<bool>("--json", "the state file's JSON instead of the table");
        var command = new Command("status", "a rollout's hosts: wave, state, version, last error") { state, json };
        command.SetAction(r =>
        {
            var path = r.GetValue(state)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no rollout state here (--state)");
            }
            var loaded = RolloutState.Load(path);
            Console.WriteLine(r.GetValue(json) ? System.Text.Encoding.UTF8.GetString(loaded.ToJson()) : loaded.Table());
            return 0;
        });
        return command;
    }
}

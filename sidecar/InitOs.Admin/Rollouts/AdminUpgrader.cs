using System.Text.Json;

namespace InitOs.Admin.Rollouts;

/// <summary>
/// One host's upgrade over the admin door: where it is (`upgrade status --json`: the jailed
/// OS's good image, else the running release), `upgrade apply --from REF` (the machine fetches
/// the bundle from the registry and proves it), and its verdict. A jailed OS's apply returns
/// with the judge's verdict (0: blessed). A UKI is staged; with <see cref="WaitForBlessing"/>
/// the host is rebooted into it and asked again until it runs the new version blessed, or
/// runs another one (its trial failed and systemd-boot went back), or the time is up.
/// </summary>
public sealed class AdminUpgrader(AdminClient client, string reference, string version, bool waitForBlessing, TimeSpan verdictTimeout, Action<TimeSpan>? sleep = null)
{
    public bool WaitForBlessing => waitForBlessing;

    public HostOutcome Upgrade(RolloutHost host)
    {
        var before = Status(host.Target);
        if (before.Version == version)
        {
            return HostOutcome.Success(version);
        }
        bool jailed = before.Jailed;
        var apply = client.Run(host.Target, $"upgrade apply --from {reference}{(waitForBlessing && !jailed ? " --reboot" : "")}");
        if (!apply.Succeeded && !(waitForBlessing && !jailed && apply.ExitCode == AdminClient.ConnectionFailed))
        {
            return HostOutcome.Failure($"upgrade apply exited {apply.ExitCode}: {LastLine(apply.Error.Length > 0 ? apply.Error : apply.Output)}", before.Version);
        }
        if (jailed)
        {
            return HostOutcome.Success(version);
        }
        if (!waitForBlessing)
        {
            return HostOutcome.Success($"{version} staged");
        }
        return AwaitVerdict(host.Target, before.Version);
    }

    private HostOutcome AwaitVerdict(AdminTarget target, string? previous)
    {
        var deadline = DateTime.UtcNow + verdictTimeout;
        string? seen = null;
        while (DateTime.UtcNow < deadline)
        {
            (sleep ?? Thread.Sleep)(TimeSpan.FromSeconds(3));
            (string? Version, bool Jailed, string? State, bool TrialBad) status;
            try
            {
                status = Status(target);
            }
            catch (InvalidOperationException)
            {
                continue; // down, rebooting
            }
            seen = status.Version;
            if (status.Version == version && status.State == "good")
            {
                return HostOutcome.Success(version);
            }
            if (status.Version != version && status.Version is not null && status.State is "good" && status.Version != previous)
            {
                return HostOutcome.Failure($"runs {status.Version}, neither {previous} nor {version}", status.Version);
            }
            if (status.Version == previous && status.TrialBad)
            {
                return HostOutcome.Failure($"{version} was judged bad; the host rolled back to {previous} by itself", previous);
            }
        }
        return HostOutcome.Failure($"no verdict on {version} within {verdictTimeout.TotalSeconds:F0} s (last seen running {seen ?? "nothing"})", seen);
    }

    /// <summary>The host's version as `upgrade status --json` says: the jailed OS's good image, else the running release and its slot's state.</summary>
    private (string? Version, bool Jailed, string? State, bool TrialBad) Status(AdminTarget target)
    {
        var result = client.Run(target, "upgrade status --json");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"upgrade status exited {result.ExitCode}: {LastLine(result.Error)}");
        }
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        if (root.TryGetProperty("os_images", out var images) && images.ValueKind == JsonValueKind.Object)
        {
            var good = images.GetProperty("good").GetString();
            return (good is not null && good.Contains('@', StringComparison.Ordinal) ? good[(good.IndexOf('@', StringComparison.Ordinal) + 1)..] : null, true, "good", false);
        }
        var running = root.GetProperty("running").GetString();
        var slots = root.GetProperty("slots").EnumerateArray().ToList();
        var runningSlot = slots.FirstOrDefault(s => s.GetProperty("running").GetBoolean());
        var state = runningSlot.ValueKind == JsonValueKind.Object ? runningSlot.GetProperty("state").GetString() : null;
        bool trialBad = slots.Any(s => s.GetProperty("version").GetString() == version && s.GetProperty("state").GetString() == "bad")
            || slots.All(s => s.GetProperty("version").GetString() != version);
        return (running, false, state, trialBad);
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";
}

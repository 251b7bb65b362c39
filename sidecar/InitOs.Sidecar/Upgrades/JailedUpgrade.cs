using System.Diagnostics;
using System.Globalization;
using InitOs.Init.Config;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// A jailed OS upgraded without a host reboot: once its image is staged (<see cref="OsImageSink"/>),
/// the bundle's proof is kept beside it and the pointer names it as the trial, with [upgrade]
/// tries starts; PID 1 is asked to stop the OS and start it again, and its next start takes
/// (and proves) the trial. The sidecar judges it as it judges a trial boot — the OS up for
/// settle_seconds on that image, every probe passing, within deadline_seconds of the restart —
/// and then blesses it (the pointer's good version) or rolls back: the pointer back on the good
/// version, the OS killed and started on it at once, the bad image removed.
/// </summary>
public static class JailedUpgrade
{
    /// <summary>How long PID 1 may take to start the OS again, beyond the OS's stop grace.</summary>
    private static readonly TimeSpan RestartWait = TimeSpan.FromSeconds(60);

    public static int Run(InitosConfig settings, OsImageStore store, OsImageSink sink, VerifiedBundle bundle, DurableSteps steps, Stopwatch clock, Action<string> say)
    {
        var version = Stage(settings, store, sink, bundle, steps);
        var label = $"{store.Name}@{version}";
        Report(say, string.Create(CultureInfo.InvariantCulture,
            $"{label} staged on the data volume ({settings.Upgrade.Tries} starts to prove itself), signed by {PublicKeys.Fingerprint(bundle.Key)}, in {clock.Elapsed.TotalSeconds:F1} s, {steps.Count} durable steps, {steps.BytesWritten} bytes written; restarting the OS on it (the host keeps running)"));
        var restart = Stopwatch.StartNew();
        if (!RestartOs(OsRestartSignals.Stop, label, settings.Os.StopGraceSeconds, say))
        {
            return Reject(settings, store, version, $"the OS did not start on {label} ({OsImageStore.Running() ?? "nothing"} runs; the boot log says why)", steps, say);
        }
        Report(say, string.Create(CultureInfo.InvariantCulture, $"the OS runs {label} {restart.Elapsed.TotalSeconds:F1} s after the stop; judging within {settings.Upgrade.DeadlineSeconds} s (settle {settings.Upgrade.SettleSeconds} s, {settings.Upgrade.Probes.Count} probes)"));
        var started = restart.Elapsed;
        var problem = new HealthCheck(settings, uptime: () => (restart.Elapsed - started).TotalSeconds, image: label, waiting: line => Report(say, line)).Wait();
        return problem is null ? Good(settings, store, version, steps, say) : Reject(settings, store, version, problem, steps, say);
    }

    /// <summary>
    /// After the sink committed the image: its proof beside it, then the pointer naming it the
    /// trial (the floor kept); with <paramref name="uki"/>, a trial that only a boot of that UKI
    /// release runs. Returns its version.
    /// </summary>
    public static string Stage(InitosConfig settings, OsImageStore store, OsImageSink sink, VerifiedBundle bundle, DurableSteps steps, string? uki = null)
    {
        var version = sink.Staged ?? throw new InvalidOperationException("the bundle was read and no OS image was staged");
        var proof = bundle.Proof ?? throw new InvalidOperationException("a verified bundle without its proof");
        steps.WriteFile(store.ProofPath(version), proof.ToJson());
        store.WritePointer(new ImagePointer(sink.Pointer?.Good, version, settings.Upgrade.Tries, sink.Pointer?.Floor, uki), steps);
        return version;
    }

    /// <summary>The verdict is good: blessed (policy auto) and older images pruned, or left for an admin (policy manual).</summary>
    public static int Good(InitosConfig settings, OsImageStore store, string version, DurableSteps steps, Action<string> say)
    {
        if (settings.Upgrade.Policy == UpgradePolicy.Manual)
        {
            Report(say, $"verdict on {store.Name}@{version}: good; policy manual: waiting for an admin's `upgrade bless` (or `upgrade rollback`)");
            return 0;
        }
        var floor = Bless(settings, store, version, steps);
        Report(say, $"verdict on {store.Name}@{version}: good; blessed (the pointer's good version){(floor is null ? "" : $", anti-rollback floor {floor}")}");
        return 0;
    }

    /// <summary>
    /// The pointer's good version becomes <paramref name="version"/>, the floor rises to its
    /// bundle's minVersion (kept in the pointer across boots: older signed images are never run
    /// again), and images beyond the kept ones or below the floor go. Returns the floor.
    /// </summary>
    public static string? Bless(InitosConfig settings, OsImageStore store, string version, DurableSteps steps)
    {
        var pointer = store.ReadPointer();
        var raised = BundleProof.Read(store.ProofPath(version)).Verify(new TrustPolicy(settings.Upgrade.Keys, settings.Upgrade.Compatible, null)).Description.MinVersion;
        var floor = ImagePointer.Higher(pointer?.Floor, raised);
        store.WritePointer(new ImagePointer(version, null, 0, floor), steps);
        var current = UpgradeVersion.Parse(version, "the blessed version");
        var low = floor is null ? null : UpgradeVersion.Parse(floor, "the floor");
        var older = store.Versions()
            .Where(v => UpgradeVersion.Parse(v, "an image") is var image && image.CompareTo(current) < 0 && (low is null || image.CompareTo(low) >= 0))
            .Reverse().Take(settings.Upgrade.KeepPrevious);
        store.Prune(new HashSet<string>(older.Append(version), StringComparer.Ordinal), steps);
        return floor;
    }

    /// <summary>The verdict is bad: the pointer back on the good version, the OS killed and started on it, the bad image removed.</summary>
    public static int Reject(InitosConfig settings, OsImageStore store, string version, string problem, DurableSteps steps, Action<string> say)
    {
        var clock = Stopwatch.StartNew();
        var pointer = store.ReadPointer();
        var back = new ImagePointer(pointer?.Good, null, 0, pointer?.Floor);
        store.WritePointer(back, steps);
        var goodLabel = store.GoodLabel(back);
        Report(say, $"verdict on {store.Name}@{version}: bad: {problem}; rolling back to {goodLabel}");
        bool restarted = OsImageStore.Running() == goodLabel || RestartOs(OsRestartSignals.Kill, goodLabel, 0, say);
        Drop(store, version, steps);
        Report(say, restarted
            ? string.Create(CultureInfo.InvariantCulture, $"back on {goodLabel} {clock.Elapsed.TotalSeconds:F1} s after the verdict; {store.Name}@{version} removed")
            : $"the OS did not come back on {goodLabel} in time; `services` and the boot log say why");
        return 1;
    }

    /// <summary>The trial <paramref name="version"/> gone: the pointer back on the good version (the floor kept), its image and proof removed. The OS is not restarted.</summary>
    public static void Drop(OsImageStore store, string version, DurableSteps steps)
    {
        var pointer = store.ReadPointer();
        if (pointer?.Trial is not null)
        {
            store.WritePointer(new ImagePointer(pointer.Good, null, 0, pointer.Floor), steps);
        }
        store.Prune(store.Versions().Where(v => v != version).ToHashSet(StringComparer.Ordinal), steps);
    }

    /// <summary>Asks PID 1 to stop (or kill) the OS and start it again; true once the jail runs <paramref name="label"/>.</summary>
    private static bool RestartOs(int signal, string label, int stopGraceSeconds, Action<string> say)
    {
        var before = OsStarts();
        Sys.Processes.Signal(1, signal);
        var deadline = Stopwatch.StartNew();
        var limit = RestartWait + TimeSpan.FromSeconds(stopGraceSeconds);
        while (deadline.Elapsed < limit)
        {
            if (OsStarts() > before && OsImageStore.Running() is var running && running is not null)
            {
                return running == label;
            }
            Thread.Sleep(100);
        }
        say($"upgrade: the OS was not started again within {limit.TotalSeconds:F0} s");
        return false;
    }

    /// <summary>How many times PID 1 has started the OS, counted while it runs (its status file).</summary>
    private static int OsStarts() =>
        StatusFile.Find(OsRestartSignals.Service) is { State: "running" } os ? os.Starts : 0;

    private static void Report(Action<string> say, string line)
    {
        KernelLogLine.Write("upgrade: " + line);
        say("upgrade: " + line);
    }
}

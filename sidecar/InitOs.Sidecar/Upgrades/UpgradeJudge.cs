using System.Globalization;
using InitOs.Init.Config;
using InitOs.Init.Logging;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// `initos upgrade-judge`: the verdict on a trial boot, from outside the OS it judges. Run as a
/// service by PID 1 (and by the sidecar after switch_root) when upgrades are on. On a boot of a
/// counted entry it waits until the OS has been up for settle_seconds and every probe passes,
/// all within deadline_seconds of the boot: then it blesses the entry (policy auto) and prunes
/// old ones. Otherwise it marks the entry bad and reboots, and systemd-boot starts the newest
/// good version. A boot that hangs or panics before a verdict spends a try of the counter.
/// </summary>
public static class UpgradeJudge
{
    public const string ServiceName = "upgrade-judge";
    public const string Applet = "upgrade-judge";

    public static int Run(string[] args)
    {
        var settings = ConfigLoader.Load(args is [var path] ? path : InitosConfig.DefaultPath);
        var config = settings.Upgrade;
        if (!config.Enabled)
        {
            Log("upgrades are off ([upgrade] keys and version); nothing to judge");
            return 0;
        }
        var slots = Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory)) ? EspSlots.ForThisMachine(config) : null;
        var running = slots?.Running;
        bool trialBoot = running?.Entry.TriesLeft is not null;
        var image = ImageTrial(settings, slots);
        if (image is { } alone && !(trialBoot && alone.Pointer.TrialUki == config.Version))
        {
            JudgeImageTrial(settings, alone.Store, alone.Pointer.Trial!);
            image = null;
        }
        if (slots is null)
        {
            return 0;
        }
        if (running is null)
        {
            Log($"the running {config.Version} has no entry on the ESP (booted some other way); nothing to judge");
            return 0;
        }
        if (!trialBoot)
        {
            Log($"running {running.Entry.Version}, a good version ({running.Entry.FileName}); not a trial boot");
            return 0;
        }
        return JudgeTrialBoot(settings, slots, running, image);
    }

    /// <summary>
    /// A trial boot of a counted entry, with the OS image it came with if any (one verdict for
    /// both): good blesses the entry, then the image; bad marks the entry bad, puts the image
    /// pointer back on the good version, and reboots into the previous UKI.
    /// </summary>
    private static int JudgeTrialBoot(InitosConfig settings, EspSlots slots, Slot running, (OsImageStore Store, ImagePointer Pointer)? image)
    {
        var config = settings.Upgrade;
        var label = image is { } pair ? $"{pair.Store.Name}@{pair.Pointer.Trial}" : null;
        Log(string.Create(CultureInfo.InvariantCulture, $"trial boot of {running.Entry.Version} ({running.Entry.FileName}{(label is null ? "" : $", with the OS image {label}")}): judging within {config.DeadlineSeconds} s of the boot (settle {config.SettleSeconds} s, {config.Probes.Count} probes)"));
        var verdict = new HealthCheck(settings, image: label, waiting: Log).Wait();
        var steps = new DurableSteps(KernelLogLine.Write);
        if (verdict is null)
        {
            if (config.Policy == UpgradePolicy.Manual)
            {
                Log($"verdict on {running.Entry.Version}: good; policy manual: waiting for an admin's `upgrade bless` (or `upgrade rollback`)");
                DisarmWatchdog();
                return 0;
            }
            // The entry first: should the power fail before the image is blessed too, the next boot is of a good UKI and judges the image alone.
            var blessed = SlotActions.Bless(slots, running, config.KeepPrevious, steps, config.MinVersion);
            var floor = image is { } good ? JailedUpgrade.Bless(settings, good.Store, good.Pointer.Trial!, steps) : null;
            Log(string.Create(CultureInfo.InvariantCulture, $"verdict on {blessed.Version}: good at {BootLog.Uptime:F1} s after the boot; blessed ({blessed.FileName}{(label is null ? "" : $" and {label}")}{(floor is null ? "" : $", image floor {floor}")})"));
            TpmUpgradeKeys.KeepOnly(settings, blessed.Version, Log);
            DisarmWatchdog();
            return 0;
        }
        // The entry first: should the power fail before the pointer is put back, the previous UKI boots and drops the trial it did not come with.
        var bad = SlotActions.MarkBad(slots, running, steps);
        if (image is { } rejected)
        {
            JailedUpgrade.Drop(rejected.Store, rejected.Pointer.Trial!, steps);
        }
        Log($"verdict on {running.Entry.Version}: bad: {verdict}; marked {bad.FileName}{(label is null ? "" : $", {label} removed")}, rebooting into the previous version");
        return Admin.SystemdShutdown.Run(Init.Supervision.ShutdownKind.Reboot) == 0 ? 0 : 1;
    }

    /// <summary>How long the jailed OS's first start may take to be under way.</summary>
    private static readonly TimeSpan FirstStartWait = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The jailed OS's image on trial, if any. One that came with another UKI than this boot's is
    /// not this boot's to judge: it waits while that UKI can still boot, and is dropped once it
    /// cannot (never made bootable, or marked bad), with the held-back UKI file if one is left.
    /// </summary>
    private static (OsImageStore Store, ImagePointer Pointer)? ImageTrial(InitosConfig settings, EspSlots? slots)
    {
        if (settings.Os.Image is not { } name)
        {
            return null;
        }
        var store = OsImageStore.OnDataVolume(name);
        if (store.ReadPointer() is not { Trial: { } trial } pointer)
        {
            return null;
        }
        if (pointer.TrialRunsUnder(settings.Upgrade.Version!))
        {
            return (store, pointer);
        }
        var uki = pointer.TrialUki!;
        if (slots?.List().Any(s => s.Entry.Version == uki && s.Entry.State != EntryState.Bad) == true)
        {
            Log($"the OS image {name}@{trial} waits for the boot of UKI {uki}, which it came with");
            return null;
        }
        var steps = new DurableSteps(KernelLogLine.Write);
        JailedUpgrade.Drop(store, trial, steps);
        if (slots is not null)
        {
            EspUkiSink.RemoveHeld(slots, uki, steps);
        }
        Log($"the OS image {name}@{trial} came with UKI {uki}, which cannot boot (never staged, or marked bad); removed");
        return null;
    }

    /// <summary>
    /// A jailed OS's image on trial at boot (the host went down during its trial, or the OS's own
    /// restarts were counted): judged from the boot, as a trial boot is.
    /// </summary>
    private static void JudgeImageTrial(InitosConfig settings, OsImageStore store, string trial)
    {
        var label = $"{store.Name}@{trial}";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (OsImageStore.Running() is null && clock.Elapsed < FirstStartWait)
        {
            Thread.Sleep(200);
        }
        var steps = new DurableSteps(KernelLogLine.Write);
        if (OsImageStore.Running() != label)
        {
            JailedUpgrade.Reject(settings, store, trial, $"its starts were spent without a good verdict (the jail runs {OsImageStore.Running() ?? "nothing"})", steps, Console.WriteLine);
            return;
        }
        Log(string.Create(CultureInfo.InvariantCulture, $"the jailed OS runs {label} on trial: judging within {settings.Upgrade.DeadlineSeconds} s of the boot"));
        var problem = new HealthCheck(settings, image: label, waiting: Log).Wait();
        // Either verdict is the judge's work done: it exits 0 and is not started again.
        _ = problem is null
            ? JailedUpgrade.Good(settings, store, trial, steps, Console.WriteLine)
            : JailedUpgrade.Reject(settings, store, trial, problem, steps, Console.WriteLine);
    }

    /// <summary>The magic close on the watchdog PID 1 left running: the trial is over, well.</summary>
    private static void DisarmWatchdog()
    {
        if (!File.Exists(Sys.Watchdog.Device))
        {
            return;
        }
        try
        {
            Sys.Watchdog.Arm(60).Watchdog.Disarm();
            Log("watchdog stopped");
        }
        catch (Sys.SysException e)
        {
            Log($"the watchdog could not be stopped ({e.Message}); it will reset the machine");
        }
    }

    private static void Log(string line)
    {
        KernelLogLine.Write("upgrade: " + line);
        Console.WriteLine("upgrade: " + line);
    }
}

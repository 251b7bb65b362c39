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
        int imageVerdict = JudgeImageTrial(settings);
        if (!Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory)))
        {
            return imageVerdict;
        }
        var slots = EspSlots.ForThisMachine(config);
        var running = slots.Running;
        if (running is null)
        {
            Log($"the running {config.Version} has no entry on the ESP (booted some other way); nothing to judge");
            return 0;
        }
        if (running.Entry.TriesLeft is null)
        {
            Log($"running {running.Entry.Version}, a good version ({running.Entry.FileName}); not a trial boot");
            return 0;
        }
        Log(string.Create(CultureInfo.InvariantCulture, $"trial boot of {running.Entry.Version} ({running.Entry.FileName}): judging within {config.DeadlineSeconds} s of the boot (settle {config.SettleSeconds} s, {config.Probes.Count} probes)"));
        var verdict = new HealthCheck(settings, waiting: Log).Wait();
        var steps = new DurableSteps(KernelLogLine.Write);
        if (verdict is null)
        {
            if (config.Policy == UpgradePolicy.Manual)
            {
                Log($"verdict on {running.Entry.Version}: good; policy manual: waiting for an admin's `upgrade bless` (or `upgrade rollback`)");
                DisarmWatchdog();
                return 0;
            }
            var blessed = SlotActions.Bless(slots, running, config.KeepPrevious, steps, config.MinVersion);
            Log(string.Create(CultureInfo.InvariantCulture, $"verdict on {blessed.Version}: good at {BootLog.Uptime:F1} s after the boot; blessed ({blessed.FileName})"));
            DisarmWatchdog();
            return 0;
        }
        var bad = SlotActions.MarkBad(slots, running, steps);
        Log($"verdict on {running.Entry.Version}: bad: {verdict}; marked {bad.FileName}, rebooting into the previous version");
        return Admin.SystemdShutdown.Run(Init.Supervision.ShutdownKind.Reboot) == 0 ? 0 : 1;
    }

    /// <summary>How long the jailed OS's first start may take to be under way.</summary>
    private static readonly TimeSpan FirstStartWait = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A jailed OS's image on trial at boot (the host went down during its trial, or the OS's own
    /// restarts were counted): judged from the boot, as a trial boot is.
    /// </summary>
    private static int JudgeImageTrial(InitosConfig settings)
    {
        if (settings.Os.Image is not { } name)
        {
            return 0;
        }
        var store = OsImageStore.OnDataVolume(name);
        if (store.ReadPointer() is not { Trial: { } trial })
        {
            return 0;
        }
        var label = $"{name}@{trial}";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (OsImageStore.Running() is null && clock.Elapsed < FirstStartWait)
        {
            Thread.Sleep(200);
        }
        var steps = new DurableSteps(KernelLogLine.Write);
        if (OsImageStore.Running() != label)
        {
            JailedUpgrade.Reject(settings, store, trial, $"its starts were spent without a good verdict (the jail runs {OsImageStore.Running() ?? "nothing"})", steps, Console.WriteLine);
            return 0;
        }
        Log(string.Create(CultureInfo.InvariantCulture, $"the jailed OS runs {label} on trial: judging within {settings.Upgrade.DeadlineSeconds} s of the boot"));
        var problem = new HealthCheck(settings, image: label, waiting: Log).Wait();
        // Either verdict is the judge's work done: it exits 0 and is not started again.
        _ = problem is null
            ? JailedUpgrade.Good(settings, store, trial, steps, Console.WriteLine)
            : JailedUpgrade.Reject(settings, store, trial, problem, steps, Console.WriteLine);
        return 0;
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

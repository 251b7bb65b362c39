using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Sys;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// The boot's part of upgrades (phase "upgrade", when [upgrade] keys and version are set): the
/// ESP that systemd-boot booted from, found by its LoaderDevicePartUUID and mounted at
/// /run/initos/esp; and, on a trial boot of a new version, a failed phase marks the entry bad
/// and reboots at once, so systemd-boot starts the previous version instead of trying again.
/// </summary>
public static class UpgradeBoot
{
    private static readonly TimeSpan EspWait = TimeSpan.FromSeconds(10);

    /// <summary>vfat's defaults: codepage 437, iocharset ascii (Debian's kernel).</summary>
    private static readonly string[] FatCodePages = ["nls_cp437", "nls_ascii"];

    public static Phase Phase => new("upgrade",
    [
        new("load-hash-modules", LoadHashModules),
        new("mount-esp", MountEsp),
        new("note-trial-boot", NoteTrialBoot),
    ], c => c.RequireSettings().Upgrade.Enabled);

    /// <summary>AF_ALG's hash sockets and the fastest SHA-256 driver the CPU runs, when packed: the sidecar verifies bundles with them.</summary>
    private static void LoadHashModules(BootContext context)
    {
        foreach (var module in new[] { "af_alg", "algif_hash", "sha256_ssse3" })
        {
            if (context.ModuleIndex is not { } index || context.Modules is not { } modules || !index.Contains(module) || index.IsBuiltin(module))
            {
                continue;
            }
            try
            {
                modules.Load(module);
            }
            catch (Exception e) when (e is SysException or Init.Modules.ModuleException)
            {
                // sha256_ssse3 refuses a CPU without SSSE3: the kernel's generic SHA-256 (or the managed one) does.
                context.Log.Info($"upgrade: {module} not loaded ({e.Message}); bundles are hashed without it");
            }
        }
    }

    private static void MountEsp(BootContext context)
    {
        if (!Directory.Exists("/sys/firmware/efi"))
        {
            context.Log.Warn("upgrade: not booted by UEFI; upgrades are off this boot");
            return;
        }
        RootTasks.EnsureFilesystem(context, "efivarfs");
        var partUuid = EfiVariables.LoaderDevicePartUuid();
        if (partUuid is null)
        {
            context.Log.Warn("upgrade: the firmware names no ESP (no LoaderDevicePartUUID: not booted through systemd-boot or systemd-stub); upgrades are off this boot");
            return;
        }
        var device = DeviceTasks.WaitForDevice(context, "esp", $"PARTUUID={partUuid}", EspWait);
        RootTasks.EnsureFilesystem(context, "vfat");
        // FAT asks for its code pages by name at mount time; the kernel cannot load them itself here.
        foreach (var codePage in FatCodePages.Where(m => context.ModuleIndex?.Contains(m) == true && !context.ModuleIndex.IsBuiltin(m)))
        {
            context.Modules?.Load(codePage);
        }
        Directory.CreateDirectory(EspSlots.MountPoint);
        // The ESP is unsigned: nothing on it is run from here (the firmware checks what it boots).
        Mounts.Mount(device.DevicePath, EspSlots.MountPoint, "vfat", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "umask=0077");
        context.Log.Info($"upgrade: ESP {device.DevicePath} (PARTUUID {partUuid}) on {EspSlots.MountPoint}");
    }

    private static void NoteTrialBoot(BootContext context)
    {
        var config = context.RequireSettings().Upgrade;
        if (!Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory)))
        {
            return;
        }
        var slots = EspSlots.ForThisMachine(config);
        var running = slots.Running;
        if (running is null)
        {
            context.Log.Warn($"upgrade: the running {config.Version} has no entry in {EspSlots.EntriesDirectory} (booted another way); upgrades will stage entries beside it");
            return;
        }
        if (running.Entry.TriesLeft is not { } left)
        {
            context.Log.Info($"upgrade: running {running.Entry.Version}, a good version ({running.Entry.FileName})");
            return;
        }
        context.Log.Info($"upgrade: trial boot of {running.Entry.Version} ({running.Entry.FileName}, {left} more {(left == 1 ? "try" : "tries")} after this one); the sidecar judges it");
        context.BeforeFailurePolicy = failure => FailTrial(context, slots, running, failure);
        ArmWatchdog(context, config);
    }

    /// <summary>How long the watchdog's driver (loaded by coldplug) gets to make /dev/watchdog.</summary>
    private static readonly TimeSpan WatchdogWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A trial boot that hangs (the kernel, PID 1, the OS) must not wait for a person: the
    /// watchdog is started with a timeout past the judge's deadline and left running; only the
    /// judge's good verdict stops it. When it fires, systemd-boot has already counted the try.
    /// </summary>
    private static void ArmWatchdog(BootContext context, Init.Config.UpgradeConfig config)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(Watchdog.Device) && clock.Elapsed < WatchdogWait)
        {
            Thread.Sleep(50);
        }
        if (!File.Exists(Watchdog.Device))
        {
            context.Log.Warn($"upgrade: no {Watchdog.Device} (no watchdog driver for this machine); a hang in this trial boot waits for a power cycle");
            return;
        }
        int seconds = config.WatchdogSeconds > 0 ? config.WatchdogSeconds : config.DeadlineSeconds + 60;
        try
        {
            var (watchdog, took) = Watchdog.Arm(seconds);
            watchdog.LeaveRunning();
            context.Log.Info($"upgrade: watchdog armed: the machine resets in {took} s unless the judge rules good first");
        }
        catch (SysException e)
        {
            context.Log.Warn($"upgrade: the watchdog could not be armed ({e.Message}); a hang in this trial boot waits for a power cycle");
        }
    }

    /// <summary>A phase of a trial boot failed: the version is bad. Marked so, synced, and the machine restarts into the previous one.</summary>
    private static void FailTrial(BootContext context, EspSlots slots, Slot running, string failure)
    {
        var bad = SlotActions.MarkBad(slots, running, new DurableSteps(line => context.Log.Info(line)));
        context.Log.Error($"upgrade: verdict on {running.Entry.Version}: bad: the boot failed ({failure}); marked {bad.FileName}, rebooting into the previous version");
        Files.Sync();
        Kernel.Reboot(RebootCommand.Restart);
    }
}

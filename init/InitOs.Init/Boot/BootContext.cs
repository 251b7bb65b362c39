using InitOs.Init.Config;
using InitOs.Init.Devices;
using InitOs.Init.Logging;
using InitOs.Init.Modules;

namespace InitOs.Init.Boot;

/// <summary>
/// What the phases hand each other: settings, the module index, the root device, and
/// finally the hand-off to run once every phase has been timed and logged.
/// </summary>
public sealed class BootContext
{
    public BootContext(BootLog log, IReadOnlyList<string> initArguments)
    {
        Log = log;
        InitArguments = initArguments;
    }

    public BootLog Log { get; }

    /// <summary>Arguments the kernel gave PID 1; they are passed on to the real init.</summary>
    public IReadOnlyList<string> InitArguments { get; }

    public string ConfigPath { get; init; } = InitosConfig.DefaultPath;
    public string NewRoot { get; init; } = "/sysroot";

    /// <summary>Known as soon as the command line is read, before the config is.</summary>
    public FailurePolicy Policy { get; set; } = FailurePolicy.Shell;
    public BootSettings? Settings { get; set; }
    public ModuleIndex? ModuleIndex { get; set; }
    public ModuleLoader? Modules { get; set; }
    /// <summary>PID 1's reaper: a task that runs a program (cryptsetup) waits for it through it.</summary>
    public Supervision.Reaper? Reaper { get; set; }
    /// <summary>The loader for devices that appear later (started with coldplug; stopped at switch_root).</summary>
    public Hotplug? Hotplug { get; set; }
    /// <summary>Coldplug under way on its own thread (waited for by what needs every driver; stopped at switch_root).</summary>
    public ColdplugRun? Coldplug { get; set; }
    public BlockDevice? RootDevice { get; set; }
    public string? RootFsType { get; set; }
    public BlockDevice? DataDevice { get; set; }

    /// <summary>Set by the last phase: the step that leaves the initramfs (exec of the real init).</summary>
    public Action? Handoff { get; set; }
    /// <summary>Runs on a failed phase before the failure policy (a trial boot of an upgrade marks itself bad and reboots).</summary>
    public Action<string>? BeforeFailurePolicy { get; set; }

    public List<PhaseTiming> Timings { get; } = [];

    public BootSettings RequireSettings() =>
        Settings ?? throw new BootException("boot settings are not read yet (the settings phase did not run)");
}

using InitOs.Init.Boot.Tasks;
using InitOs.Init.Config;
using InitOs.Init.Machine;

namespace InitOs.Init.Boot;

/// <summary>
/// The boot as data: phases of named tasks, in order. Each task is a small function
/// in Tasks/; this list is the only place that says what a boot does.
/// </summary>
public static class BootSequence
{
    /// <param name="extensions">The phases the libraries above PID 1 add (the sidecar, the OS modes); a
    /// missing one is a phase that fails, saying so, when its mode or setting asks for it.</param>
    public static IReadOnlyList<Phase> SwitchRoot(ISystem system, BootExtensions? extensions = null) => Build(system, extensions ?? new BootExtensions());

    private static IReadOnlyList<Phase> Build(ISystem system, BootExtensions extensions) =>
    [
        new("early-mounts",
        [
            new("mount-api-filesystems", _ => EarlyMounts.MountAll(system)),
            new("attach-console", _ => EarlyMounts.AttachConsole(system)),
            new("open-kmsg", c => c.Log.AttachKmsg()),
            new("open-consoles", c => c.Log.AttachConsoles(Logging.ActiveConsoles.Read(), lastOnStdout: true)),
            new("report-firmware", c => FirmwareTasks.Report(c, system)),
            new("free-microcode", c => FirmwareTasks.FreeMicrocode(c)),
        ]),
        new("settings",
        [
            new("read-cmdline-and-config", c => SettingsTasks.Read(c)),
        ]),
        new("modules",
        [
            new("load-index", ModuleTasks.LoadIndex),
            new("load-configured", ModuleTasks.LoadConfigured),
            new("watch-hotplug", ModuleTasks.StartHotplug),
            new("start-coldplug", ModuleTasks.StartColdplug),
        ]),
        new("network",
        [
            new("settle-coldplug", ModuleTasks.SettleColdplug),
            new("bring-up-network", NetworkTasks.BringUp),
        ], c => c.RequireSettings().Network.Mode != NetworkMode.Off),
        new("host",
        [
            // Leaving rootfs moves /sys for a moment: coldplug's scan must be over.
            new("settle-coldplug", ModuleTasks.SettleColdplug),
            new("leave-rootfs", c => HostRootTasks.LeaveRootfs(c, system)),
            new("mount-cgroup2", c => HostRootTasks.MountCgroup2(c, system)),
            new("share-mounts", c => HostRootTasks.ShareMounts(c, system)),
        ], StaysPid1),
        new("raid",
        [
            new("assemble-arrays", RaidTasks.Assemble),
        ], RaidTasks.HasArrays),
        new("crypt",
        [
            new("open-volumes", CryptTasks.OpenVolumes),
        ], CryptTasks.HasVolumes),
        new("lvm",
        [
            new("activate-volume-groups", LvmTasks.Activate),
        ], LvmTasks.HasGroups),
        new("data",
        [
            new("wait-for-data", DeviceTasks.WaitForData),
            new("mount-data", c => DataTasks.MountData(c, system)),
        ], c => c.RequireSettings().Data is not null),
        extensions.Sidecar ?? Missing("sidecar", "the sidecar", c => c.RequireSettings().Sidecar.Ssh),
        extensions.Upgrade ?? Missing("upgrade", "upgrade support", c => c.RequireSettings().Upgrade.Enabled),
        new("devices",
        [
            new("wait-for-root", DeviceTasks.WaitForRoot),
        ], NeedsRoot),
        new("root",
        [
            new("mount-root", c => RootTasks.MountRoot(c, system)),
            new("check-init", c => RootTasks.CheckInit(c, system)),
        ], c => NeedsRoot(c) && c.RequireSettings().Mode != BootMode.Vm),
        new("switch-root",
        [
            new("stop-coldplug", ModuleTasks.StopColdplug),
            new("verify-new-root", c => SwitchRootTasks.VerifyNewRoot(c, system)),
            extensions.StartSidecarBeforeHandoff ?? new("start-sidecar", c =>
            {
                if (c.RequireSettings().Sidecar.Ssh)
                {
                    throw new BootException("this build has no sidecar, and [sidecar] ssh is on");
                }
            }),
            new("stop-hotplug", c => c.Hotplug?.Stop()),
            new("detach-module-store", ModuleTasks.DetachStore),
            new("move-api-mounts", c => SwitchRootTasks.MoveApiMounts(c, system)),
            new("free-initramfs", c => SwitchRootTasks.FreeInitramfs(c, system)),
            new("prepare-handoff", c => SwitchRootTasks.PrepareHandoff(c, system)),
        ], c => c.RequireSettings().Mode == BootMode.SwitchRoot),
        extensions.Os ?? Missing("os", "jail runtime for the jail modes", InJail),
        extensions.Vm ?? Missing("vm", "VM runtime for mode vm", InVm),
    ];

    private static Phase Missing(string phase, string what, Func<BootContext, bool> when) =>
        new(phase, [new($"no-{phase}", _ => throw new BootException($"this build has no {what}"))], when);

    /// <summary>vm: PID 1 stays and runs the OS in QEMU.</summary>
    public static bool InVm(BootContext context) => context.RequireSettings().Mode == BootMode.Vm;

    /// <summary>privileged and unprivileged: PID 1 stays and runs the OS in a jail.</summary>
    public static bool InJail(BootContext context) => context.RequireSettings().Mode is BootMode.Privileged or BootMode.Unprivileged;

    /// <summary>
    /// switch_root needs the root; the jail modes use it as the OS's image, and vm as the VM's
    /// disk (found, never mounted by the host), unless [os] image names one on the data volume;
    /// initramfs mode has none.
    /// </summary>
    private static bool NeedsRoot(BootContext context)
    {
        var settings = context.RequireSettings();
        return settings.Mode == BootMode.SwitchRoot || ((InJail(context) || InVm(context)) && settings.Os.Image is null);
    }

    /// <summary>Without a switch_root InitOS stays the host: it readies the initramfs for jails.</summary>
    public static bool StaysPid1(BootContext context) => context.RequireSettings().Mode != BootMode.SwitchRoot;

    public static IReadOnlyList<string> PhaseNames(IReadOnlyList<Phase> phases) => phases.Select(p => p.Name).ToList();
}

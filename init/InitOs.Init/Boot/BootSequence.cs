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
    /// <param name="os">The jail modes' hand-off (the jails library provides it): prepares the OS's jail; PID 1 then supervises it.</param>
    /// <param name="vm">Mode vm's hand-off (the jails library's too): finds the VM kit and the OS's disk; PID 1 then supervises QEMU.</param>
    public static IReadOnlyList<Phase> SwitchRoot(ISystem system, Phase? os = null, Phase? vm = null) =>
    [
        new("early-mounts",
        [
            new("mount-api-filesystems", _ => EarlyMounts.MountAll(system)),
            new("attach-console", _ => EarlyMounts.AttachConsole(system)),
            new("open-kmsg", c => c.Log.AttachKmsg()),
            new("report-firmware", c => FirmwareTasks.Report(c, system)),
        ]),
        new("settings",
        [
            new("read-cmdline-and-config", c => SettingsTasks.Read(c)),
        ]),
        new("modules",
        [
            new("load-index", ModuleTasks.LoadIndex),
            new("load-configured", ModuleTasks.LoadConfigured),
            new("coldplug", ModuleTasks.RunColdplug),
        ]),
        new("network",
        [
            new("bring-up-network", NetworkTasks.BringUp),
        ], c => c.RequireSettings().Network.Mode != NetworkMode.Off),
        new("host",
        [
            new("leave-rootfs", c => HostRootTasks.LeaveRootfs(c, system)),
            new("mount-cgroup2", c => HostRootTasks.MountCgroup2(c, system)),
            new("share-mounts", c => HostRootTasks.ShareMounts(c, system)),
        ], StaysPid1),
        new("data",
        [
            new("wait-for-data", DeviceTasks.WaitForData),
            new("mount-data", c => DataTasks.MountData(c, system)),
        ], c => c.RequireSettings().Data is not null),
        new("sidecar",
        [
            new("prepare-ssh", c => Sidecar.SshSidecar.Prepare(c.RequireSettings().Sidecar)),
        ], c => StaysPid1(c) && c.RequireSettings().Sidecar.Ssh),
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
            new("verify-new-root", c => SwitchRootTasks.VerifyNewRoot(c, system)),
            new("start-sidecar", StartSidecar),
            new("move-api-mounts", c => SwitchRootTasks.MoveApiMounts(c, system)),
            new("free-initramfs", c => SwitchRootTasks.FreeInitramfs(c, system)),
            new("prepare-handoff", c => SwitchRootTasks.PrepareHandoff(c, system)),
        ], c => c.RequireSettings().Mode == BootMode.SwitchRoot),
        os ?? new Phase("os", [new("no-jail-runtime", _ => throw new BootException("this build has no jail runtime for the jail modes"))], InJail),
        vm ?? new Phase("vm", [new("no-vm-runtime", _ => throw new BootException("this build has no VM runtime for mode vm"))], InVm),
    ];

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
    private static bool StaysPid1(BootContext context) => context.RequireSettings().Mode != BootMode.SwitchRoot;

    public static IReadOnlyList<string> PhaseNames(IReadOnlyList<Phase> phases) => phases.Select(p => p.Name).ToList();

    /// <summary>With [sidecar] ssh on, the admin door outlives the hand-off (Sidecar/SidecarStaging).</summary>
    private static void StartSidecar(BootContext context)
    {
        var sidecar = context.RequireSettings().Sidecar;
        if (!sidecar.Ssh)
        {
            return;
        }
        Sidecar.SshSidecar.Prepare(sidecar);
        Sidecar.SidecarStaging.Stage(sidecar);
        int pid;
        try
        {
            pid = Sidecar.SidecarStaging.Start(sidecar, TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is InvalidOperationException or Sys.SysException or IOException)
        {
            // The OS still boots; only the admin door is missing.
            context.Log.Error($"sidecar: {e.Message}; handing off without it");
            return;
        }
        context.Log.Info($"sidecar: started from {Sidecar.SidecarStaging.Root} as pid {pid}; it outlives the hand-off");
    }
}

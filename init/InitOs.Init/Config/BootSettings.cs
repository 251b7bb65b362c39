namespace InitOs.Init.Config;

/// <summary>
/// What this boot will do: the config file's values with the kernel command line on top
/// (the command line wins, as with every initramfs).
/// </summary>
public sealed record BootSettings
{
    public BootMode Mode { get; init; } = BootMode.SwitchRoot;
    public FailurePolicy OnFailure { get; init; } = FailurePolicy.Shell;
    public string? Root { get; init; }
    public string? RootFsType { get; init; }
    public string? RootFlags { get; init; }
    public bool ReadWrite { get; init; }
    public TimeSpan RootWait { get; init; } = TimeSpan.FromSeconds(30);
    public string Init { get; init; } = "/sbin/init";
    public IReadOnlyList<string> InitArguments { get; init; } = [];
    public IReadOnlyList<string> Consoles { get; init; } = [];
    public IReadOnlyList<string> Modules { get; init; } = [];
    /// <summary>modules.load and modules.include: coldplug loads the drivers among them before the others it finds.</summary>
    public IReadOnlyList<string> ColdplugFirst { get; init; } = [];
    public bool Coldplug { get; init; } = true;
    /// <summary>Phase before which an emergency shell runs (initos.break=PHASE).</summary>
    public string? BreakBefore { get; init; }
    public IReadOnlyList<ServiceConfig> Services { get; init; } = [];
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);
    public NetworkSettings Network { get; init; } = new();
    public SidecarConfig Sidecar { get; init; } = new();
    public OsConfig Os { get; init; } = new();
    public VmConfig Vm { get; init; } = new();
    public RecoveryConfig Recovery { get; init; } = new();
    public UpgradeConfig Upgrade { get; init; } = new();
    /// <summary>LUKS2 volumes to open first ([[crypt]]).</summary>
    public IReadOnlyList<CryptConfig> Crypt { get; init; } = [];
    public IReadOnlyList<RaidConfig> Raid { get; init; } = [];
    public IReadOnlyList<LvmConfig> Lvm { get; init; } = [];
    /// <summary>The data volume to mount, null when there is none.</summary>
    public DataConfig? Data { get; init; }
    /// <summary>Things on the command line that were ignored, to be logged as warnings.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

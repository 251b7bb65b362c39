namespace InitOs.Init.Config;

/// <summary>How PID 1 hands the machine to the real operating system.</summary>
public enum BootMode
{
    SwitchRoot,
    Privileged,
    Unprivileged,
    Vm,
    /// <summary>No hand-off: InitOS stays PID 1 and the initramfs is the whole system (services only).</summary>
    Initramfs,
}

/// <summary>What PID 1 does when a boot phase fails.</summary>
public enum FailurePolicy
{
    Shell,
    Reboot,
    PowerOff,
}

/// <summary>The spelling of the enums in the config and on the command line.</summary>
public static class ConfigNames
{
    public static readonly IReadOnlyDictionary<string, BootMode> Modes = new Dictionary<string, BootMode>
    {
        ["switch_root"] = BootMode.SwitchRoot,
        ["privileged"] = BootMode.Privileged,
        ["unprivileged"] = BootMode.Unprivileged,
        ["vm"] = BootMode.Vm,
        ["initramfs"] = BootMode.Initramfs,
    };

    public static readonly IReadOnlyDictionary<string, AdminRole> AdminRoles = new Dictionary<string, AdminRole>
    {
        ["viewer"] = AdminRole.Viewer,
        ["operator"] = AdminRole.Operator,
        ["admin"] = AdminRole.Admin,
    };

    public static readonly IReadOnlyDictionary<string, RestartPolicy> Restarts = new Dictionary<string, RestartPolicy>
    {
        ["always"] = RestartPolicy.Always,
        ["on-failure"] = RestartPolicy.OnFailure,
        ["never"] = RestartPolicy.Never,
    };

    public static readonly IReadOnlyDictionary<string, FailurePolicy> Policies = new Dictionary<string, FailurePolicy>
    {
        ["shell"] = FailurePolicy.Shell,
        ["reboot"] = FailurePolicy.Reboot,
        ["poweroff"] = FailurePolicy.PowerOff,
    };

    /// <summary>[[crypt]] keys: where a LUKS2 volume's key comes from, tried in order.</summary>
    public static readonly IReadOnlyDictionary<string, CryptKeySource> CryptKeySources = new Dictionary<string, CryptKeySource>
    {
        ["passphrase"] = CryptKeySource.Passphrase,
        ["tpm2"] = CryptKeySource.Tpm2,
    };

    public static readonly IReadOnlyDictionary<string, UpgradePolicy> UpgradePolicies = new Dictionary<string, UpgradePolicy>
    {
        ["auto"] = UpgradePolicy.Auto,
        ["manual"] = UpgradePolicy.Manual,
    };

    public static readonly IReadOnlyDictionary<string, SidecarStart> SidecarStarts = new Dictionary<string, SidecarStart>
    {
        ["initramfs"] = SidecarStart.Initramfs,
        ["after-init"] = SidecarStart.AfterInit,
    };

    public static readonly IReadOnlyDictionary<string, NetworkMode> NetworkModes = new Dictionary<string, NetworkMode>
    {
        ["off"] = NetworkMode.Off,
        ["dhcp"] = NetworkMode.Dhcp,
        ["static"] = NetworkMode.Static,
    };

    public static readonly IReadOnlyDictionary<string, OsExitAction> OsExitActions = new Dictionary<string, OsExitAction>
    {
        ["restart"] = OsExitAction.Restart,
        ["reboot"] = OsExitAction.Reboot,
        ["poweroff"] = OsExitAction.PowerOff,
        ["halt"] = OsExitAction.Halt,
    };

    public static readonly IReadOnlyDictionary<string, string> OsNetworks = new Dictionary<string, string>
    {
        ["bridge"] = "bridge",
        ["none"] = "none",
        ["host"] = "host",
    };

    public static readonly IReadOnlyDictionary<string, string> VmMachines = new Dictionary<string, string>
    {
        ["auto"] = "auto",
        ["microvm"] = "microvm",
        ["pc"] = "pc",
    };

    public static readonly IReadOnlyDictionary<string, string> VmAccels = new Dictionary<string, string>
    {
        ["auto"] = "auto",
        ["kvm"] = "kvm",
        ["tcg"] = "tcg",
    };

    public static readonly IReadOnlyDictionary<string, ModuleProfile> ModuleProfiles = new Dictionary<string, ModuleProfile>
    {
        ["generic"] = ModuleProfile.Generic,
        ["host"] = ModuleProfile.Host,
        ["explicit"] = ModuleProfile.Explicit,
    };

    public static string Name(ModuleProfile profile) => ModuleProfiles.First(p => p.Value == profile).Key;

    public static string Name(BootMode mode) => Modes.First(p => p.Value == mode).Key;

    public static string Name(FailurePolicy policy) => Policies.First(p => p.Value == policy).Key;
}

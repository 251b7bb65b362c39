using InitOs.Init.Config;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Upgrades;

/// <summary>The judge as a supervised service (PID 1's, or the sidecar's after switch_root): restarted if it fails, done once it has ruled.</summary>
public static class UpgradeJudgeService
{
    public static IReadOnlyList<ServiceSpec> With(IReadOnlyList<ServiceSpec> services, UpgradeConfig upgrade) =>
        upgrade.Enabled && Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory))
            ? [.. services, Service()]
            : services;

    public static ServiceSpec Service() => new()
    {
        Name = UpgradeJudge.ServiceName,
        Command = [Ssh.SshSidecar.Box, UpgradeJudge.Applet],
        Restart = RestartPolicy.OnFailure,
    };
}

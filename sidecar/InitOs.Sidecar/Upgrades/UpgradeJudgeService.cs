using InitOs.Init.Config;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Upgrades;

/// <summary>The judge as a supervised service (PID 1's, or the sidecar's after switch_root): restarted if it fails, done once it has ruled.</summary>
public static class UpgradeJudgeService
{
    /// <summary>With the judge when there may be something to judge: UKI slots on the ESP, or a jailed OS's staged image on trial.</summary>
    public static IReadOnlyList<ServiceSpec> With(IReadOnlyList<ServiceSpec> services, UpgradeConfig upgrade, OsConfig os) =>
        upgrade.Enabled && (Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory)) || ImageOnTrial(os))
            ? [.. services, Service()]
            : services;

    private static bool ImageOnTrial(OsConfig os)
    {
        try
        {
            return os.Image is { } name && OsImageStore.OnDataVolume(name).ReadPointer() is { Trial: not null };
        }
        catch (BundleException)
        {
            return false;
        }
    }

    public static ServiceSpec Service() => new()
    {
        Name = UpgradeJudge.ServiceName,
        Command = [Ssh.SshSidecar.Box, UpgradeJudge.Applet],
        Restart = RestartPolicy.OnFailure,
    };
}

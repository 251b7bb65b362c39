using InitOs.Init.Config;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Where `upgrade apply` sends a bundle, decided once its manifest is proven: OS images only go
/// to the data volume for the jail (<see cref="OsImageSink"/>), a UKI to the ESP for the next
/// boot (<see cref="EspUkiSink"/>). Each checks its own plan before anything is written.
/// </summary>
public sealed class ApplySink(InitosConfig settings, DurableSteps steps, Action<string> progress) : IArtifactSink
{
    private IArtifactSink? _chosen;

    /// <summary>The OS image sink, when the bundle was one for the jail.</summary>
    public OsImageSink? Jailed => _chosen as OsImageSink;

    /// <summary>The UKI sink, when the bundle was one for the ESP.</summary>
    public EspUkiSink? Boot => _chosen as EspUkiSink;

    public void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
        _chosen = artifacts.All(a => a.Kind == BundleArtifact.OsImage) ? JailSink() : UkiSink();
        _chosen.Plan(description, artifacts);
    }

    private OsImageSink JailSink()
    {
        if (settings.Os.Image is not { } name || OsImageStore.Running() is null)
        {
            throw new BundleException("the bundle carries OS images only, and this machine runs no jailed OS from the data volume's images/ ([os] image in mode privileged or unprivileged)");
        }
        if (OsUidMap() is { } map && map != "0 0 4294967295")
        {
            // Its lower layer would need an idmapped mount, which squashfs and erofs lack (Linux 6.1).
            throw new BundleException($"the jailed OS runs unprivileged (uid_map {map}); OS images from bundles are for privileged jails only so far (docs/upgrades.md)");
        }
        return new OsImageSink(OsImageStore.OnDataVolume(name), steps, progress);
    }

    /// <summary>The running OS's uid_map (its init's, from PID 1's status file), spaces squeezed; null when it does not run.</summary>
    internal static string? OsUidMap(string statusFile = Init.Supervision.StatusFile.DefaultPath)
    {
        if (Init.Supervision.StatusFile.Find(Init.Supervision.OsRestartSignals.Service, statusFile) is not { Pid: > 0 } os)
        {
            return null;
        }
        try
        {
            var line = File.ReadLines($"/proc/{os.Pid}/uid_map").FirstOrDefault() ?? "";
            return string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private EspUkiSink UkiSink()
    {
        if (EfiVariables.LoaderEntrySelected() is null)
        {
            throw new BundleException("this machine did not boot through systemd-boot (no LoaderEntrySelected): a staged UKI would never be booted");
        }
        var slots = EspSlots.ForThisMachine(settings.Upgrade);
        if (slots.Running is { Entry.TriesLeft: not null } trial)
        {
            throw new BundleException($"the running {trial.Entry.Version} is on trial ({trial.Entry.FileName}); its verdict comes first (`upgrade status`, `upgrade bless`, `upgrade rollback`)");
        }
        return new EspUkiSink(slots, steps, settings.Upgrade.Tries, progress);
    }

    public Stream Begin(BundleArtifact artifact) => Chosen.Begin(artifact);

    public void Commit(BundleArtifact artifact) => Chosen.Commit(artifact);

    public void Abort() => _chosen?.Abort();

    private IArtifactSink Chosen => _chosen ?? throw new InvalidOperationException("Begin before Plan");
}

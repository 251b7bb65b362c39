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
        return new OsImageSink(OsImageStore.OnDataVolume(name), steps, progress);
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

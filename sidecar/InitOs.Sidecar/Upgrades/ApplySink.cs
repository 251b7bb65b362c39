using InitOs.Init.Config;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Where `upgrade apply` sends a bundle, decided once its manifest is proven: OS images only go
/// to the data volume for the jail (<see cref="OsImageSink"/>), a UKI to the ESP for the next
/// boot (<see cref="EspUkiSink"/>), a UKI with OS images to both, the UKI held back until the
/// images are staged. Each checks its own plan before anything is written.
/// </summary>
public sealed class ApplySink(InitosConfig settings, DurableSteps steps, Action<string> progress) : IArtifactSink
{
    private IArtifactSink? _chosen;

    /// <summary>The OS image sink, when the bundle carries OS images (alone, or with their UKI).</summary>
    public OsImageSink? Jailed { get; private set; }

    /// <summary>The UKI sink, when the bundle carries a UKI.</summary>
    public EspUkiSink? Boot { get; private set; }

    public void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
        bool images = artifacts.Any(a => a.Kind == BundleArtifact.OsImage), uki = artifacts.Any(a => a.Kind == BundleArtifact.Uki);
        Boot = uki ? UkiSink(holdEntry: images && settings.Os.Image is not null) : null;
        Jailed = images && (!uki || settings.Os.Image is not null) ? JailSink(besideUki: uki) : null;
        _chosen = (Boot, Jailed) switch
        {
            ({ } boot, { } jail) => new PairSink(boot, jail),
            ({ } boot, null) => boot,
            (null, { } jail) => jail,
            _ => throw new BundleException("the bundle carries neither a UKI nor an OS image"),
        };
        _chosen.Plan(description, artifacts);
    }

    private OsImageSink JailSink(bool besideUki)
    {
        if (settings.Os.Image is not { } name || OsImageStore.Running() is null)
        {
            throw new BundleException("the bundle carries OS images only, and this machine runs no jailed OS from the data volume's images/ ([os] image in mode privileged, unprivileged or vm)");
        }
        // An unprivileged jail's lower layer is mounted idmapped: only some filesystems allow it.
        bool idmapped = OsUidMap() is { } map && map != "0 0 4294967295";
        return new OsImageSink(OsImageStore.OnDataVolume(name), steps, progress, besideUki, idmapped);
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

    private EspUkiSink UkiSink(bool holdEntry)
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
        return new EspUkiSink(slots, steps, settings.Upgrade.Tries, progress, holdEntry,
            beforeBootable: (uki, version) => TpmUpgradeKeys.SealFor(settings, uki, version, progress));
    }

    public Stream Begin(BundleArtifact artifact) => Chosen.Begin(artifact);

    public void Commit(BundleArtifact artifact) => Chosen.Commit(artifact);

    public void Abort() => _chosen?.Abort();

    private IArtifactSink Chosen => _chosen ?? throw new InvalidOperationException("Begin before Plan");
}

/// <summary>A UKI and the OS images it comes with: each artifact to its own sink, both planned before any byte is written.</summary>
internal sealed class PairSink(EspUkiSink boot, OsImageSink jail) : IArtifactSink
{
    public void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
        boot.Plan(description, artifacts);
        jail.Plan(description, artifacts);
    }

    public Stream Begin(BundleArtifact artifact) => SinkOf(artifact).Begin(artifact);

    public void Commit(BundleArtifact artifact) => SinkOf(artifact).Commit(artifact);

    public void Abort()
    {
        boot.Abort();
        jail.Abort();
    }

    private IArtifactSink SinkOf(BundleArtifact artifact) => artifact.Kind == BundleArtifact.Uki ? boot : jail;
}

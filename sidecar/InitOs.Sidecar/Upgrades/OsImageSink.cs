using System.Globalization;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Where `upgrade apply` puts a bundle's OS image in the jail modes: images/.NAME@V.partial on
/// the data volume, renamed to images/NAME@V once its digest proved it, the directory synced.
/// Before any byte is written the plan is checked: only OS images, each the one this machine's
/// jail runs ([os] image), newer than the good version, no trial under way, room for it.
/// Nothing points at the image yet: <see cref="JailedUpgrade"/> writes its proof and the pointer.
/// With <paramref name="besideUki"/> the bundle also carries the UKI it comes with (another sink's).
/// For an unprivileged jail (<paramref name="idmapped"/>) the image must be of a filesystem that
/// can be mounted idmapped (ext4): checked on the proven bytes before the image is renamed in.
/// </summary>
public sealed class OsImageSink(OsImageStore store, DurableSteps steps, Action<string> progress, bool besideUki = false, bool idmapped = false) : IArtifactSink
{
    /// <summary>Room left over on the data volume beyond the image (the pool, the state directory live there too).</summary>
    public const long Margin = 16L << 20;

    private FileStream? _partial;
    private string? _version;

    public ImagePointer? Pointer { get; private set; }

    /// <summary>The version whose image was committed.</summary>
    public string? Staged { get; private set; }

    public void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
        if (artifacts.FirstOrDefault(a => a.Kind != BundleArtifact.OsImage && !(besideUki && a.Kind == BundleArtifact.Uki)) is { } other)
        {
            throw new BundleException($"{other.Kind} {other.Name}: a bundle for a jailed OS carries OS images, and at most the UKI they come with");
        }
        artifacts = artifacts.Where(a => a.Kind == BundleArtifact.OsImage).ToList();
        if (artifacts.FirstOrDefault(a => a.Name != store.Name) is { } stranger)
        {
            throw new BundleException($"os-image {stranger.Name}: this machine's jail runs the image \"{store.Name}\" ([os] image)");
        }
        Pointer = store.ReadPointer();
        if (Pointer is { HasTrial: true } trial)
        {
            throw new BundleException($"{store.Name}@{trial.Trial} is on trial ({trial.TriesLeft} starts left); its verdict comes first (`upgrade status`)");
        }
        var version = UpgradeVersion.Parse(description.Version, "the bundle's version");
        if (Pointer?.Floor is { } floor && version.CompareTo(UpgradeVersion.Parse(floor, "the floor")) < 0)
        {
            throw new BundleException($"the bundle's version {version} is below the floor {floor} a blessed bundle raised (anti-rollback)");
        }
        if (Pointer?.Good is { } good && version.CompareTo(UpgradeVersion.Parse(good, "the good image's version")) <= 0)
        {
            throw new BundleException($"the bundle's version {version} is not newer than the running image {store.Name}@{good}");
        }
        Directory.CreateDirectory(store.Directory);
        long size = artifacts.Sum(a => a.Blob.Size);
        var free = (long)Sys.FileSystems.Status(store.Directory).AvailableBytes;
        if (free < size + Margin)
        {
            throw new BundleException(string.Create(CultureInfo.InvariantCulture,
                $"the data volume has {free >> 20} MiB free and the image needs {(size + Margin + (1 << 20) - 1) >> 20} MiB (with {Margin >> 20} MiB to spare); nothing was written"));
        }
        _version = description.Version;
        progress(string.Create(CultureInfo.InvariantCulture, $"plan: OS image {store.Name}@{_version}, {size} bytes to {store.Directory}, {free >> 20} MiB free there"));
    }

    public Stream Begin(BundleArtifact artifact)
    {
        _partial = steps.CreateFresh(store.PartialPath(VersionOf(artifact)));
        return new StepStream(_partial, steps);
    }

    public void Commit(BundleArtifact artifact)
    {
        steps.SyncAndClose(_partial ?? throw new InvalidOperationException("Commit before Begin"));
        _partial = null;
        var version = VersionOf(artifact);
        if (idmapped && OsImageStore.FsTypeOf(store.PartialPath(version)) is var fsType && !OsImageStore.Idmappable(fsType))
        {
            throw new BundleException($"os-image {artifact.Name}: a {fsType} image, and the jailed OS runs unprivileged: its lower layer is mounted idmapped, which Linux 6.1 allows on ext4 only (`initos build rootfs --format ext4`)");
        }
        // The same version staged before (and found bad) goes: its proof first, so no proof outlives its image.
        foreach (var stale in new[] { store.ProofPath(version), store.ImagePath(version) }.Where(File.Exists))
        {
            steps.Delete(stale);
        }
        steps.Rename(store.PartialPath(version), store.ImagePath(version));
        steps.SyncDirectory(store.Directory);
        Staged = version;
    }

    public void Abort()
    {
        _partial?.Dispose();
        _partial = null;
        if (_version is not null && File.Exists(store.PartialPath(_version)))
        {
            steps.Delete(store.PartialPath(_version));
            steps.SyncDirectory(store.Directory);
        }
        if (Staged is { } staged && File.Exists(store.ImagePath(staged)))
        {
            // Proven, but the bundle around it was not (its end): nothing points at it yet.
            steps.Delete(store.ImagePath(staged));
            steps.SyncDirectory(store.Directory);
            Staged = null;
        }
    }

    private string VersionOf(BundleArtifact artifact) => _version ?? throw new InvalidOperationException($"{artifact.Name}: Begin before Plan");
}

using System.Globalization;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Where `upgrade apply` puts a bundle's UKI: EFI/Linux/.initos-V.efi.partial on the ESP (a
/// name systemd-boot passes over), renamed to initos-V+TRIES.efi only once its digest proved
/// it, then the directory synced. Before any byte is written the plan is checked: one UKI,
/// newer than the running release, room for it on the ESP. Every write goes through the
/// numbered steps. An abort removes the partial file; nothing else was touched. With OS images
/// in the same bundle (<paramref name="holdEntry"/>) the proven UKI stays a partial file until
/// <see cref="Activate"/>: it must not become bootable before the image it comes with is staged.
/// </summary>
/// <param name="beforeBootable">Runs with the proven UKI's path and version just before it becomes an entry (the disk keys are sealed to it there); a throw keeps it from becoming one.</param>
public sealed class EspUkiSink(EspSlots slots, DurableSteps steps, int tries, Action<string> progress, bool holdEntry = false, Action<string, string>? beforeBootable = null) : IArtifactSink
{
    /// <summary>Room left over on the ESP beyond the UKI, for FAT's own bookkeeping.</summary>
    public const long Margin = 1 << 20;

    private FileStream? _partial;
    private string? _version;
    private string? _partialPath;

    /// <summary>The entry the committed UKI became.</summary>
    public BootEntry? Staged { get; private set; }

    public void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
        if (!holdEntry && artifacts.FirstOrDefault(a => a.Kind != BundleArtifact.Uki) is { } image)
        {
            throw new BundleException($"os-image {image.Name}: this machine runs no OS from the data volume's images/ to put it in");
        }
        var uki = artifacts.SingleOrDefault(a => a.Kind == BundleArtifact.Uki)
            ?? throw new BundleException("the bundle has no UKI; this machine applies UKI upgrades");
        _version = description.Version;
        var version = UpgradeVersion.Parse(description.Version, "the bundle's version");
        var running = UpgradeVersion.Parse(slots.RunningVersion, "the running release");
        if (version.CompareTo(running) <= 0)
        {
            throw new BundleException($"the bundle's version {version} is not newer than the running {running}; `upgrade rollback` goes back to a kept version");
        }
        var free = (long)Sys.FileSystems.Status(slots.Directory).AvailableBytes;
        var stale = PartialPath(description.Version);
        long reclaimable = File.Exists(stale) ? new FileInfo(stale).Length : 0;
        if (free + reclaimable < uki.Blob.Size + Margin)
        {
            throw new BundleException(string.Create(CultureInfo.InvariantCulture,
                $"the ESP has {(free + reclaimable) >> 20} MiB free and the UKI needs {(uki.Blob.Size + Margin + (1 << 20) - 1) >> 20} MiB; nothing was written (fewer kept versions, [upgrade] keep_previous, leave more room)"));
        }
        progress(string.Create(CultureInfo.InvariantCulture, $"plan: UKI {uki.Blob.Size} bytes to {slots.Directory}, {free >> 20} MiB free there"));
    }

    public Stream Begin(BundleArtifact artifact)
    {
        // A partial file left by an upgrade the power cut short was never booted (systemd-boot skips dot files).
        _partialPath = PartialPath(VersionOf(artifact));
        _partial = steps.CreateFresh(_partialPath);
        return new StepStream(_partial, steps);
    }

    public void Commit(BundleArtifact artifact)
    {
        steps.SyncAndClose(_partial ?? throw new InvalidOperationException("Commit before Begin"));
        _partial = null;
        if (!holdEntry)
        {
            Activate();
        }
    }

    /// <summary>The proven UKI becomes the entry systemd-boot tries next (with its counter); an earlier entry of the same version goes.</summary>
    public BootEntry Activate()
    {
        var version = _version ?? throw new InvalidOperationException("Activate before Plan");
        if (_partialPath is null || _partial is not null)
        {
            throw new InvalidOperationException("Activate before the UKI was committed");
        }
        beforeBootable?.Invoke(_partialPath, version);
        var entry = BootEntry.New(version, tries);
        var others = slots.List().Where(s => s.Entry.Version == entry.Version).ToList();
        steps.Rename(_partialPath!, slots.PathOf(entry));
        _partialPath = null;
        steps.SyncDirectory(slots.Directory);
        // An earlier try of the same version (a bad one, say) would be a second entry beside it.
        foreach (var other in others)
        {
            steps.Delete(slots.PathOf(other.Entry));
        }
        if (others.Count > 0)
        {
            steps.SyncDirectory(slots.Directory);
        }
        Staged = entry;
        return entry;
    }

    public void Abort()
    {
        _partial?.Dispose();
        _partial = null;
        if (_partialPath is not null && File.Exists(_partialPath))
        {
            steps.Delete(_partialPath);
            steps.SyncDirectory(slots.Directory);
        }
        _partialPath = null;
    }

    private string VersionOf(BundleArtifact artifact) => _version ?? throw new InvalidOperationException($"{artifact.Name}: Begin before Plan");

    private string PartialPath(string version) => HeldPath(slots, version);

    private static string HeldPath(EspSlots slots, string version) => Path.Combine(slots.Directory, $".{BootEntry.Prefix}{version}{BootEntry.Suffix}.partial");

    /// <summary>A UKI held back for OS images that were never staged (the power failed between them): removed, as systemd-boot never saw it.</summary>
    public static void RemoveHeld(EspSlots slots, string version, DurableSteps steps)
    {
        if (File.Exists(HeldPath(slots, version)))
        {
            steps.Delete(HeldPath(slots, version));
            steps.SyncDirectory(slots.Directory);
        }
    }
}

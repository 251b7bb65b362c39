using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Sidecar.Upgrades;
using InitOs.Sys;

namespace InitOs.Os;

/// <summary>
/// The jailed OS's images staged from bundles (images/NAME@V on the data volume, see
/// <see cref="OsImageStore"/>), as PID 1 uses them at each start of the OS: the pointer's trial,
/// with one of its starts spent first, or else its good version; proven against the signed
/// config's keys (the data volume is not signed), then mounted read-only to be the jail's lower
/// layer. A trial that cannot be proven or has no init is dropped from the pointer on the spot
/// and the good version starts instead, so a bad image never needs a verdict to be left behind.
/// A trial that came with a UKI (one bundle carrying both) runs only under that UKI's release
/// (<paramref name="release"/>, this boot's signed [upgrade] version): the previous UKI, booted
/// because the new one was never made bootable or was judged bad, keeps its good image.
/// </summary>
internal sealed class StagedOsImages(BootContext context, OsImageStore store, TrustPolicy signedPolicy, string release)
{
    private const string MountRoot = OsJail.StateDirectory + "/lower";

    private (string Label, string Directory)? _mounted;

    /// <summary>Whether a bundle ever staged an image of this name here.</summary>
    public bool HasPointer => File.Exists(store.PointerPath);

    /// <summary>
    /// The image for this start, mounted: (its directory, NAME@V); null when the pointer names no
    /// good version (the directory image images/NAME runs). <paramref name="usable"/> throws a
    /// BootException when a mounted image cannot run (no init).
    /// </summary>
    public (string Directory, string Label)? Take(Action<string> usable) =>
        TakeWith(image =>
        {
            var mounted = Mount(image);
            usable(mounted.Directory);
            return new MountedImage(mounted.Directory, mounted.Label);
        }) is { } chosen ? (chosen.Directory, chosen.Label) : null;

    /// <summary>
    /// Mode vm's: the proven image file for this start (the guest boots it as its disk, its
    /// writes dropped, so the file stays as proven); null as for <see cref="Take"/>.
    /// </summary>
    public ProvenImage? TakeFile() => TakeWith(image => image);

    private sealed record MountedImage(string Directory, string Label);

    /// <summary>The pointer's trial (a start spent) or good version, proven and handed to <paramref name="use"/>; a trial that fails either is dropped.</summary>
    private T? TakeWith<T>(Func<ProvenImage, T> use) where T : class
    {
        ImagePointer? pointer;
        try
        {
            pointer = store.ReadPointer();
        }
        catch (Exception e) when (e is BundleException or IOException)
        {
            // The data volume is not signed: a pointer that is not one names nothing; the directory image, pinned by the config, is all there is.
            context.Log.Error($"os: the pointer {store.PointerPath} is unusable: {e.Message}; the directory image images/{store.Name} runs, if there is one");
            return null;
        }
        if (pointer is null)
        {
            return null;
        }
        var policy = pointer.Raise(signedPolicy);
        if (pointer.HasTrial && !pointer.TrialRunsUnder(release))
        {
            context.Log.Info($"os: the trial {store.Name}@{pointer.Trial} came with UKI {pointer.TrialUki} and this boot is {release}: {store.GoodLabel(pointer)} runs");
            pointer = pointer with { Trial = null, TriesLeft = 0 };
        }
        if (pointer.HasTrial && !SpendStart(pointer))
        {
            pointer = pointer with { Trial = null, TriesLeft = 0 };
        }
        if (pointer.HasTrial)
        {
            var trial = pointer.Trial!;
            try
            {
                var chosen = use(store.Prove(trial, policy));
                context.Log.Info($"os: the trial {store.Name}@{trial} ({pointer.TriesLeft - 1} more starts after this one); the sidecar judges it");
                return chosen;
            }
            catch (Exception e) when (e is BundleException or BootException or SysException or IOException)
            {
                context.Log.Error($"os: the trial {store.Name}@{trial} cannot run: {e.Message}; dropped, back to {store.GoodLabel(pointer)}");
                // Its starts end here; the judge sees a trial with none left and rules it bad.
                TryWritePointer(pointer with { TriesLeft = 0 }, $"dropping the trial {store.Name}@{trial}");
            }
        }
        else if (pointer.Trial is { } spent)
        {
            context.Log.Warn($"os: the trial {store.Name}@{spent} has no starts left without a good verdict; {store.GoodLabel(pointer)} runs");
        }
        if (pointer.Good is not { } good)
        {
            return null;
        }
        return use(store.Prove(good, policy));
    }

    private DurableSteps Steps() => new(line => context.Log.Info(line));

    /// <summary>
    /// One of the trial's starts, spent in the pointer before the trial runs; false when that
    /// cannot be recorded (a full or read-only volume): a trial whose starts are not counted
    /// could run for ever without a verdict, so the good version runs instead.
    /// </summary>
    private bool SpendStart(ImagePointer pointer) =>
        TryWritePointer(pointer with { TriesLeft = pointer.TriesLeft - 1 }, $"counting a start of the trial {store.Name}@{pointer.Trial} ({store.GoodLabel(pointer)} runs instead)");

    /// <summary>The pointer replaced; false, said in the log, when the volume does not take it (full, read-only).</summary>
    private bool TryWritePointer(ImagePointer pointer, string purpose)
    {
        try
        {
            store.WritePointer(pointer, Steps());
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SysException)
        {
            context.Log.Error($"os: {store.PointerPath} cannot be written ({e.Message}): {purpose}");
            return false;
        }
    }

    /// <summary>images/NAME@V on a read-only loop device at /run/initos/os/lower/NAME@V; the previous one let go.</summary>
    private (string Directory, string Label) Mount(ProvenImage image)
    {
        if (_mounted is { } current && current.Label == image.Label)
        {
            return (current.Directory, current.Label);
        }
        if (context.RequireSettings().Mode == Init.Config.BootMode.Unprivileged && !OsImageStore.Idmappable(image.FsType))
        {
            throw new BootException($"the image {image.Label} is {image.FsType} and the OS runs unprivileged: its lower layer is mounted idmapped, which Linux 6.1 allows on ext4 only");
        }
        RootTasks.EnsureFilesystem(context, image.FsType);
        var directory = Path.Combine(MountRoot, image.Label);
        Directory.CreateDirectory(directory);
        using (var loop = LoopDevice.AttachReadOnly(image.Path))
        {
            // noload: a read-only ext4 image has no journal to replay (mkfs -d leaves it clean).
            Mounts.Mount(loop.Path, directory, image.FsType, MountFlags.ReadOnly, image.FsType == "ext4" ? "noload" : null);
        }
        context.Log.Info($"os: image {image.Label} ({image.FsType}, {image.Digest[..19]}…, signed by {Init.Config.PublicKeys.Fingerprint(image.Key)}) proven and mounted on {directory}");
        LetGo();
        _mounted = (image.Label, directory);
        return (directory, image.Label);
    }

    /// <summary>The image of the last start, once a start runs another (the jail that used it has ended).</summary>
    public void LetGo()
    {
        if (_mounted is not { } old)
        {
            return;
        }
        _mounted = null;
        try
        {
            Mounts.Unmount(old.Directory, UnmountFlags.Detach);
            Directory.Delete(old.Directory);
        }
        catch (Exception e) when (e is SysException or IOException)
        {
            context.Log.Warn($"os: the image {old.Label} stays mounted on {old.Directory}: {e.Message}");
        }
    }
}

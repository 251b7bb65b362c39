using System.Globalization;
using System.Text;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Which version of an OS image the jail runs: the good one, and a version on trial with the
/// starts it has left. Kept in images/NAME.current on the data volume, replaced whole.
/// </summary>
/// <param name="Floor">The anti-rollback floor the blessed bundles raised (their minVersion): no image below it is run or staged.</param>
/// <param name="TrialUki">The UKI version the trial came with (a bundle carrying both): only a boot of that UKI runs it, and one verdict judges the pair.</param>
public sealed record ImagePointer(string? Good, string? Trial, int TriesLeft, string? Floor = null, string? TrialUki = null)
{
    public const int MaxBytes = 4096;

    /// <summary>A trial that can still be started.</summary>
    public bool HasTrial => Trial is not null && TriesLeft > 0;

    /// <summary>Whether a boot of UKI release <paramref name="running"/> may run the trial: an image that came with another UKI waits for it.</summary>
    public bool TrialRunsUnder(string running) => TrialUki is null || TrialUki == running;

    public string Format()
    {
        var text = new StringBuilder("# InitOS: the OS image the jail runs (written by the sidecar's `upgrade apply`; PID 1 counts the trial's starts)\n");
        if (Good is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"good {Good}\n");
        }
        if (Trial is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"trial {Trial} tries {TriesLeft}{(TrialUki is null ? "" : $" uki {TrialUki}")}\n");
        }
        if (Floor is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"floor {Floor}\n");
        }
        return text.ToString();
    }

    /// <summary>The pointer file's lines; a wrong one is named by file:line (the data volume is not signed).</summary>
    public static ImagePointer Parse(string text, string path)
    {
        string? good = null, trial = null, floor = null, uki = null;
        int tries = 0;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words)
            {
                case ["good", var version] when good is null && IsVersion(version):
                    good = version;
                    break;
                case ["floor", var version] when floor is null && IsVersion(version):
                    floor = version;
                    break;
                case ["trial", var version, "tries", var count, ..var rest] when trial is null && IsVersion(version)
                    && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out tries) && tries <= 100
                    && rest is [] or ["uki", _] && (rest is [] || IsVersion(rest[1])):
                    trial = version;
                    uki = rest is [_, var with] ? with : null;
                    break;
                default:
                    throw new BundleException($"{path}:{i + 1}: \"{line}\" is not `good VERSION`, `trial VERSION tries N [uki VERSION]` or `floor VERSION` (each at most once)");
            }
        }
        return new ImagePointer(good, trial, tries, floor, uki);
    }

    /// <summary>The higher of two floors (null: none).</summary>
    public static string? Higher(string? a, string? b) =>
        a is null ? b : b is null ? a : UpgradeVersion.Parse(a, "a floor").CompareTo(UpgradeVersion.Parse(b, "a floor")) >= 0 ? a : b;

    /// <summary>The policy with this pointer's floor on top of the signed config's.</summary>
    public TrustPolicy Raise(TrustPolicy policy) => policy with { MinimumVersion = Higher(policy.MinimumVersion, Floor) };

    internal static bool IsVersion(string text)
    {
        try
        {
            UpgradeVersion.Parse(text, "a version");
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>An OS image that was proven: its version and file, who signed it, its filesystem.</summary>
public sealed record ProvenImage(string Name, string Version, string Path, string Digest, string Key, string FsType)
{
    public string Label => $"{Name}@{Version}";
}

/// <summary>
/// OS images staged from bundles for the jail and vm modes, on the data volume: images/NAME@V (a
/// squashfs, erofs or ext4 file, as the bundle carried it), images/NAME@V.proof (the bundle's signed
/// parts, <see cref="BundleProof"/>), and the pointer images/NAME.current. Nothing here is
/// trusted for being here: every use proves the image against the signed config's keys.
/// </summary>
public sealed class OsImageStore(string directory, string name)
{
    public const string ProofSuffix = ".proof";
    /// <summary>What the jail's current start runs (NAME@V, or NAME for a directory image), written by PID 1 at each start.</summary>
    public const string RunningFile = "/run/initos/os/image";
    /// <summary>Mode vm: the number of the start whose guest reached its OS's init (PID 1 sees it on the guest's console).</summary>
    public const string GuestUpFile = "/run/initos/os/guest-up";
    public const string PointerSuffix = ".current";

    public string Directory { get; } = directory;
    public string Name { get; } = name;

    public static OsImageStore OnDataVolume(string name) =>
        new(System.IO.Path.Combine(Init.Config.DataConfig.MountPoint, "images"), name);

    public string PointerPath => System.IO.Path.Combine(Directory, Name + PointerSuffix);
    public string ImagePath(string version) => System.IO.Path.Combine(Directory, $"{Name}@{version}");
    public string ProofPath(string version) => ImagePath(version) + ProofSuffix;
    public string PartialPath(string version) => System.IO.Path.Combine(Directory, $".{Name}@{version}.partial");

    /// <summary>The label in <see cref="RunningFile"/>, or null when the jail has not started.</summary>
    public static string? Running(string path = RunningFile) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    /// <summary>The label of what the pointer's good version (or, with none, the directory image) is.</summary>
    public string GoodLabel(ImagePointer? pointer) => pointer?.Good is { } good ? $"{Name}@{good}" : Name;

    /// <summary>The pointer, or null when no image of this name was ever staged from a bundle.</summary>
    public ImagePointer? ReadPointer()
    {
        var info = new FileInfo(PointerPath);
        if (!info.Exists)
        {
            return null;
        }
        if (info.Length > ImagePointer.MaxBytes)
        {
            throw new BundleException($"{PointerPath}: {info.Length} bytes, larger than a pointer can be");
        }
        return ImagePointer.Parse(File.ReadAllText(PointerPath), PointerPath);
    }

    public void WritePointer(ImagePointer pointer, DurableSteps steps) =>
        steps.WriteFile(PointerPath, Encoding.UTF8.GetBytes(pointer.Format()));

    /// <summary>The versions whose image file is here (proven or not), oldest first.</summary>
    public IReadOnlyList<string> Versions()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        var prefix = Name + "@";
        return System.IO.Directory.EnumerateFiles(Directory, prefix + "*")
            .Select(System.IO.Path.GetFileName)
            .Where(f => f is not null && !f.EndsWith(ProofSuffix, StringComparison.Ordinal))
            .Select(f => f![prefix.Length..])
            .Where(ImagePointer.IsVersion)
            .OrderBy(v => v, Comparer<string>.Create((a, b) => UpgradeVersion.Parse(a, "a").CompareTo(UpgradeVersion.Parse(b, "b"))))
            .ToList();
    }

    /// <summary>
    /// Proves images/NAME@VERSION: its proof signed by a key of <paramref name="policy"/>, for
    /// this machine class, not below the floor, of this version, naming an OS image NAME whose
    /// signed digest and size the file has. Reads the whole file.
    /// </summary>
    public ProvenImage Prove(string version, TrustPolicy policy)
    {
        var path = ImagePath(version);
        var bundle = BundleProof.Read(ProofPath(version)).Verify(policy);
        if (bundle.Description.Version != version)
        {
            throw new BundleException($"{ProofPath(version)}: the signed version is {bundle.Description.Version}, not the {version} its name says");
        }
        var artifact = bundle.Artifacts.FirstOrDefault(a => a.Kind == BundleArtifact.OsImage && a.Name == Name)
            ?? throw new BundleException($"{ProofPath(version)}: the signed bundle {version} has no OS image named {Name}");
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != artifact.Blob.Size)
        {
            throw new BundleException($"{path}: {(info.Exists ? $"{info.Length} bytes" : "missing")}, the signed size is {artifact.Blob.Size}");
        }
        var digest = "sha256:" + Convert.ToHexStringLower(Sys.Digests.HashFile(path));
        if (digest != artifact.Blob.Digest)
        {
            throw new BundleException($"{path}: its SHA-256 is {digest[..19]}…, not the signed {artifact.Blob.Digest[..19]}…");
        }
        return new ProvenImage(Name, version, path, digest, bundle.Key, FsTypeOf(path));
    }

    /// <summary>squashfs ("hsqs" at 0), erofs (0xE0F5E1E2 at 1024) or ext4 (0xEF53 at 1080), by the magic numbers.</summary>
    public static string FsTypeOf(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[1082];
        int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 4 && head.AsSpan(0, 4).SequenceEqual("hsqs"u8))
        {
            return "squashfs";
        }
        if (n >= 1028 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(1024)) == 0xE0F5E1E2)
        {
            return "erofs";
        }
        if (n >= 1082 && System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(1080)) == 0xEF53)
        {
            return "ext4";
        }
        throw new BundleException($"{path}: not a squashfs, erofs or ext4 image (an OS image is one of them)");
    }

    /// <summary>
    /// Whether an image of this filesystem can be the lower layer of an unprivileged jail, which
    /// is mounted idmapped: Linux 6.1 allows that on ext4, not on squashfs or erofs.
    /// </summary>
    public static bool Idmappable(string fsType) => fsType == "ext4";

    /// <summary>Removes images (and proofs) other than <paramref name="kept"/>; the pointer must no longer name them.</summary>
    public IReadOnlyList<string> Prune(IReadOnlySet<string> kept, DurableSteps steps)
    {
        var removed = Versions().Where(v => !kept.Contains(v)).ToList();
        foreach (var version in removed)
        {
            if (File.Exists(ProofPath(version)))
            {
                steps.Delete(ProofPath(version));
            }
            steps.Delete(ImagePath(version));
        }
        if (removed.Count > 0)
        {
            steps.SyncDirectory(Directory);
        }
        return removed;
    }
}

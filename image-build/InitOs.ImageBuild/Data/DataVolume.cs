using InitOs.ImageBuild.Rootfs;
using InitOs.Init.Trust;
using InitOs.Tools;

namespace InitOs.ImageBuild.Data;

/// <summary>
/// A data volume image ([data] device): images/ for the OS (directories for the jail modes,
/// disk image files for mode vm, each directory with its manifest), the VM kit, and an empty state/. Btrfs by default, because
/// the jail modes take their upper layers from a btrfs pool on it; ext4 works for the rest.
/// </summary>
public static class DataVolume
{
    public const string DefaultLabel = "initos-data";

    public sealed record Spec
    {
        public string Label { get; init; } = DefaultLabel;
        public string FsType { get; init; } = "btrfs";
        public int SizeMiB { get; init; } = 256;
        public VmKit.Spec? VmKit { get; init; }
        public string KitDirectory { get; init; } = "vm";
        /// <summary>images/NAME ← a file (a disk image, for mode vm) or a directory (an OS tree, for the jail modes).</summary>
        public IReadOnlyDictionary<string, string> Images { get; init; } = new Dictionary<string, string>();
    }

    /// <summary>What was written: the files' total size, and for each directory image the digest of its manifest ([os] image_digest).</summary>
    public sealed record Report(long Bytes, IReadOnlyDictionary<string, string> ImageDigests);

    /// <summary>Writes the volume to <paramref name="output"/> (whole: a failure leaves no half-written image).</summary>
    public static Report Create(Spec spec, string output)
    {
        var staging = Directory.CreateTempSubdirectory("initos-data-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(staging, "state"));
            if (spec.VmKit is { } kit)
            {
                Data.VmKit.Stage(kit, Path.Combine(staging, spec.KitDirectory));
            }
            var digests = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, source) in spec.Images)
            {
                if (StageImage(name, source, Path.Combine(staging, "images")) is { } digest)
                {
                    digests[name] = digest;
                }
            }
            long bytes = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            if (bytes + (32L << 20) > (long)spec.SizeMiB << 20)
            {
                throw new ArgumentException($"data volume: {bytes >> 20} MiB of files do not fit in --size {spec.SizeMiB} MiB (give at least {(bytes >> 20) + 64})");
            }
            MakeFilesystem(spec, staging, output);
            return new Report(bytes, digests);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Copies one image; for a directory, writes images/NAME.manifest and returns its digest.</summary>
    private static string? StageImage(string name, string source, string images)
    {
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"--image {name}: the name must be one path component");
        }
        Directory.CreateDirectory(images);
        var target = Path.Combine(images, name);
        if (File.Exists(source))
        {
            File.Copy(source, target);
            return null;
        }
        if (!Directory.Exists(source))
        {
            throw new FileNotFoundException($"--image {name}={source}: no such file or directory");
        }
        ExternalTool.Run("cp", ["-a", source + "/.", target + "/"]);
        // Of the copy, as the volume will hold it (cp -a keeps owners and modes; mkfs keeps them too).
        var manifest = TreeManifest.Of(target);
        File.WriteAllText(target + ".manifest", manifest);
        return TreeManifest.Digest(manifest);
    }

    private static void MakeFilesystem(Spec spec, string staging, string output)
    {
        switch (spec.FsType)
        {
            case "ext4":
                FilesystemImage.CreateExt4(staging, output, new FilesystemImage.Ext4Options(spec.Label, null, spec.SizeMiB));
                break;
            case "btrfs":
                FilesystemImage.CreateBtrfs(staging, output, spec.Label, spec.SizeMiB);
                break;
            default:
                throw new ArgumentException($"--fstype {spec.FsType}: expected btrfs or ext4");
        }
    }
}

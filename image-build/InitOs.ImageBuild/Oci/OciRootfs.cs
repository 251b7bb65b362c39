using System.Globalization;
using InitOs.ImageBuild.Initramfs;
using InitOs.ImageBuild.Rootfs;
using InitOs.Sys;
using InitOs.Tools;

namespace InitOs.ImageBuild.Oci;

public enum RootfsFormat
{
    Ext4,
    Erofs,
    Squashfs,
    Btrfs,
    /// <summary>A directory tree, e.g. images/NAME on a data volume for the jail modes.</summary>
    Directory,
    /// <summary>
    /// Mode vm's half of the kernel + rootfs pair: an ext4 disk image (images/NAME) holding the
    /// modules of the kernel the VM kit boots it with, so the OS can load its kernel's modules.
    /// </summary>
    Vm,
}

/// <summary>
/// An OS root filesystem from a container image: the layers applied in order onto a staging
/// directory, then written as a filesystem image or moved into place as a directory. The
/// output appears whole or not at all (made beside it, renamed); the staging tree is removed
/// whatever happens. The filesystem's UUID comes from the image's config digest unless given,
/// so the same image gives the same bytes.
/// </summary>
public static class OciRootfs
{
    /// <param name="KernelDirectory">Format vm: the unpacked Debian kernel the VM kit boots (its lib/modules/VERSION goes into the image).</param>
    public sealed record Options(RootfsFormat Format, string Output, string Label, string? Tag = null, string? Uuid = null, int? SizeMiB = null, string? KernelDirectory = null);

    /// <param name="KernelVersion">Format vm: the kernel whose modules the image holds.</param>
    public sealed record Result(string Reference, string ConfigDigest, int Layers, long Entries, long TreeBytes, string? KernelVersion = null);


    public static Result Build(string source, Options options, Action<string>? log = null)
    {
        using var image = OciImage.Open(source, options.Tag);
        var output = Path.GetFullPath(options.Output);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var staging = options.Format == RootfsFormat.Directory ? PartialDirectory(output) : Directory.CreateTempSubdirectory("initos-rootfs-").FullName;
        try
        {
            // The root's mode when the image has no "./" entry, as umoci and runc leave it.
            File.SetUnixFileMode(staging, (UnixFileMode)0x1ED);
            long entries = Unpack(image, staging, log);
            var kernel = options.Format == RootfsFormat.Vm ? AddKernelModules(staging, options.KernelDirectory, log) : null;
            long bytes = TreeBytes(staging);
            Write(staging, output, options, image.ConfigDigest, bytes);
            return new Result(image.Reference, image.ConfigDigest, image.Layers.Count, entries, bytes, kernel);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                ExternalTool.Run("rm", ["-rf", "--one-file-system", staging]);
            }
        }
    }

    /// <summary>Applies every layer onto <paramref name="root"/>; a layer whose tar does not hash to its diff ID stops it.</summary>
    public static long Unpack(OciImage image, string root, Action<string>? log = null)
    {
        using var applier = new LayerApplier(root);
        foreach (var layer in image.Layers)
        {
            using var tar = OciImage.OpenLayer(layer);
            applier.Apply(new LayerTarReader(tar, layer.Name), layer.Name);
            var diffId = tar.Finish();
            if (diffId != layer.DiffId)
            {
                throw new InvalidDataException($"{layer.Name}: its tar has digest {diffId}; the config's diff ID is {layer.DiffId}: refused");
            }
            log?.Invoke($"applied {layer.Name}");
        }
        applier.Finish();
        return applier.EntriesApplied;
    }

    /// <summary>
    /// The kernel's modules tree into the image's /usr/lib/modules/VERSION (or /lib/modules when
    /// /lib is a directory of its own rather than the usual link to usr/lib), as the kernel
    /// package installs it. An image that already has that version's modules is refused: two
    /// sources for one kernel's modules would be a guess.
    /// </summary>
    private static string AddKernelModules(string root, string? kernelDirectory, Action<string>? log)
    {
        var kernel = Kernel.KernelFolder.Open(kernelDirectory ?? throw new ArgumentException("--format vm needs the kernel the VM kit boots (--kernel-dir)"));
        var lib = new FileInfo(Path.Combine(root, "lib")).LinkTarget is null && Directory.Exists(Path.Combine(root, "lib")) ? "lib" : "usr/lib";
        var modules = Path.Combine(root, lib, "modules");
        var target = Path.Combine(modules, kernel.Version);
        if (Path.Exists(target))
        {
            throw new ArgumentException($"the image already has /{lib}/modules/{kernel.Version}; --format vm adds the kit kernel's modules there and will not mix two sets");
        }
        Directory.CreateDirectory(modules);
        ExternalTool.Run("cp", ["-a", "--", kernel.ModuleDirectory, target]);
        log?.Invoke($"added the modules of kernel {kernel.Version} at /{lib}/modules/{kernel.Version}");
        return kernel.Version;
    }

    private static string PartialDirectory(string output)
    {
        if (Directory.Exists(output) || File.Exists(output))
        {
            throw new ArgumentException($"{output} exists; a directory rootfs is made fresh (remove it first)");
        }
        var partial = output + ".partial";
        if (Directory.Exists(partial))
        {
            ExternalTool.Run("rm", ["-rf", "--one-file-system", partial]);
        }
        Directory.CreateDirectory(partial);
        return partial;
    }

    private static void Write(string staging, string output, Options options, string configDigest, long treeBytes)
    {
        var uuid = options.Uuid ?? UuidFrom(configDigest);
        int size = options.SizeMiB ?? (int)Math.Max(options.Format == RootfsFormat.Btrfs ? 128 : 16, (treeBytes * 5 / 4 / (1 << 20)) + 32);
        switch (options.Format)
        {
            case RootfsFormat.Ext4 or RootfsFormat.Vm:
                FilesystemImage.CreateExt4(staging, output, new FilesystemImage.Ext4Options(options.Label, uuid, size));
                break;
            case RootfsFormat.Btrfs:
                FilesystemImage.CreateBtrfsCopy(staging, output, options.Label, size);
                break;
            case RootfsFormat.Squashfs:
                ReplaceWith(output, temporary => ModuleStoreImage.Run("mksquashfs", staging, temporary, "-noappend", "-quiet", "-no-progress", "-comp", "gzip",
                    "-mkfs-time", ExternalTool.SourceDateEpoch().ToString(CultureInfo.InvariantCulture)));
                break;
            case RootfsFormat.Erofs:
                ReplaceWith(output, temporary => ModuleStoreImage.Run("mkfs.erofs", "--quiet", "-U" + uuid, "-T" + ExternalTool.SourceDateEpoch().ToString(CultureInfo.InvariantCulture),
                    "--preserve-mtime", temporary, staging));
                break;
            case RootfsFormat.Directory:
                Directory.Move(staging, output);
                AtomicFile.SyncDirectory(Path.GetDirectoryName(output)!);
                break;
        }
    }

    private static void ReplaceWith(string output, Action<string> make)
    {
        var temporary = output + ".tmp";
        File.Delete(temporary);
        make(temporary);
        AtomicFile.Replace(temporary, output);
    }

    /// <summary>The bytes the tree's regular files take, each rounded up to 4 KiB, plus 256 per entry: what sizes an image. Symlinks are counted, never followed.</summary>
    private static long TreeBytes(string directory)
    {
        long total = 0;
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            var status = Files.Status(path) ?? throw new IOException($"{path} vanished while the image was sized");
            total += 256 + (status.IsRegularFile ? (status.Size + 4095) / 4096 * 4096 : 0);
            if (status.IsDirectory)
            {
                total += TreeBytes(path);
            }
        }
        return total;
    }

    /// <summary>A UUID (version 4 and variant bits set) from the first bytes of a digest.</summary>
    private static string UuidFrom(string digest)
    {
        var bytes = Convert.FromHexString(digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..][..32]);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexStringLower(bytes);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }
}

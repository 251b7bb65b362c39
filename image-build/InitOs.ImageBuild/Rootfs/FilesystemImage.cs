using System.Globalization;
using InitOs.Sys;
using InitOs.Tools;

namespace InitOs.ImageBuild.Rootfs;

/// <summary>Filesystem images from a directory with the Debian tools (mkfs.ext4 -d …).</summary>
public static class FilesystemImage
{
    public sealed record Ext4Options(string Label, string? Uuid = null, int SizeMiB = 32);

    /// <summary>Writes an ext4 image of <paramref name="sourceDirectory"/>, owned by root, to <paramref name="output"/>.</summary>
    public static void CreateExt4(string sourceDirectory, string output, Ext4Options options)
    {
        if (options.Label.Length > 16)
        {
            throw new ArgumentException($"ext4 label \"{options.Label}\" is longer than 16 bytes", nameof(options));
        }
        var temporary = SizedTemporary(output, options.SizeMiB);
        // mke2fs keeps only the last -E, so the extended options go in one.
        var extended = options.Uuid is null ? "root_owner=0:0" : "root_owner=0:0,hash_seed=" + options.Uuid;
        var args = new List<string> { "-q", "-F", "-t", "ext4", "-L", options.Label, "-d", sourceDirectory, "-E", extended };
        if (options.Uuid is not null)
        {
            args.AddRange(["-U", options.Uuid]);
        }
        args.Add(temporary);
        var env = new Dictionary<string, string> { ["E2FSPROGS_FAKE_TIME"] = ExternalTool.SourceDateEpoch().ToString(CultureInfo.InvariantCulture) };
        ExternalTool.Run("mkfs.ext4", args, env);
        AtomicFile.Replace(temporary, output);
    }

    /// <summary>A labelled btrfs image of <paramref name="sourceDirectory"/> (mkfs.btrfs --rootdir).</summary>
    public static void CreateBtrfs(string sourceDirectory, string output, string label, int sizeMiB)
    {
        var temporary = SizedTemporary(output, sizeMiB);
        ExternalTool.Run("mkfs.btrfs", ["-q", "-f", "-L", label, "--rootdir", sourceDirectory, temporary]);
        AtomicFile.Replace(temporary, output);
    }

    /// <summary>
    /// A labelled btrfs image holding an exact copy of <paramref name="sourceDirectory"/>: made
    /// empty, loop-mounted and filled by `cp -a --preserve=all` (owners, modes, hard links,
    /// devices, extended attributes), because mkfs.btrfs --rootdir (btrfs-progs 6.2) writes
    /// device nodes as 0,0. Root only, as the caller already is for a tree with owners.
    /// </summary>
    public static void CreateBtrfsCopy(string sourceDirectory, string output, string label, int sizeMiB)
    {
        var temporary = SizedTemporary(output, sizeMiB);
        ExternalTool.Run("mkfs.btrfs", ["-q", "-f", "-L", label, temporary]);
        var mountPoint = Directory.CreateTempSubdirectory("initos-btrfs-").FullName;
        try
        {
            ExternalTool.Run("mount", ["-o", "loop", temporary, mountPoint]);
            try
            {
                ExternalTool.Run("cp", ["-a", "--preserve=all", sourceDirectory.TrimEnd('/') + "/.", mountPoint]);
            }
            finally
            {
                ExternalTool.Run("umount", [mountPoint]);
            }
        }
        finally
        {
            Directory.Delete(mountPoint);
        }
        AtomicFile.Replace(temporary, output);
    }

    /// <summary>The image is made beside its place and moved there whole: a failure leaves nothing half-written.</summary>
    private static string SizedTemporary(string output, int sizeMiB)
    {
        var temporary = output + ".tmp";
        File.Delete(temporary);
        using var file = File.Create(temporary);
        file.SetLength(sizeMiB * 1024L * 1024L);
        return temporary;
    }
}

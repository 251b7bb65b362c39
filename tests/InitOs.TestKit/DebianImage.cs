using System.Security.Cryptography;
using System.Text;
using InitOs.ImageBuild.Rootfs;
using InitOs.Sys;

namespace InitOs.TestKit;

/// <summary>
/// The Debian root image (`initos build rootfs --debootstrap`: minbase with systemd) the tests
/// boot and unpack: made once per machine (about two minutes; debootstrap from
/// deb.debian.org), kept in .cache keyed by the marker unit and the packages, under a file lock so test
/// assemblies that run at once make it once.
/// </summary>
public static class DebianImage
{
    public const string Label = "initos-debian";

    public static string Cached()
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DebianRootfs.MarkerUnit + string.Join(',', DebianRootfs.Packages))))[..12];
        var cache = Directory.CreateDirectory(Path.Combine(RepoPaths.Root, ".cache")).FullName;
        var cached = Path.Combine(cache, $"debian-{DebianRootfs.DefaultSuite}-{key}.img");
        using var held = FileLock.Exclusive(cached + ".lock");
        if (!File.Exists(cached))
        {
            var staging = Directory.CreateTempSubdirectory("initos-debian-").FullName;
            try
            {
                DebianRootfs.Stage(staging);
                FilesystemImage.CreateExt4(staging, cached + ".tmp", new FilesystemImage.Ext4Options(Label, SizeMiB: 1024));
                File.Move(cached + ".tmp", cached);
            }
            finally
            {
                Tool.Run("rm", "-rf", "--one-file-system", staging);
            }
        }
        return cached;
    }
}

using InitOs.ImageBuild.Rootfs;

namespace InitOs.TestKit;

/// <summary>Disk fixtures: the default OS as a bare ext4 image, or inside a GPT partition.</summary>
public static class DiskImages
{
    public const string RootUuid = "3c1d5f0e-7a4b-4f6e-9d2a-1b8c0e5f7a91";

    public static void DefaultRootfs(string output, string label = ImageBuild.Rootfs.DefaultRootfs.DefaultLabel, string uuid = RootUuid, IEnumerable<ImageBuild.Rootfs.DefaultRootfs.ExtraFile>? extras = null)
    {
        using var staging = new TempDirectory("initos-rootfs-");
        ImageBuild.Rootfs.DefaultRootfs.Stage(staging.Path, extras: extras);
        FilesystemImage.CreateExt4(staging.Path, output, new FilesystemImage.Ext4Options(label, uuid, 24));
    }

    /// <summary>A GPT disk: partition 1 a small placeholder, partition 2 the filesystem image, with the given GUID and name.</summary>
    public static void GptWithRoot(string filesystemImage, string output, string partUuid, string partLabel)
    {
        const long sector = 512, firstStart = 2048;
        long fsSectors = (new FileInfo(filesystemImage).Length + sector - 1) / sector;
        long secondStart = firstStart + 2048;
        long total = secondStart + fsSectors + 2048;
        using (var disk = File.Create(output))
        {
            disk.SetLength(total * sector);
        }
        Tool.Run("sgdisk", "-n", $"1:{firstStart}:+1M", "-t", "1:8300", "-c", "1:spare",
            "-n", $"2:{secondStart}:+{fsSectors}", "-t", "2:4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "-u", $"2:{partUuid}", "-c", $"2:{partLabel}", output);
        using var target = new FileStream(output, FileMode.Open, FileAccess.Write);
        target.Seek(secondStart * sector, SeekOrigin.Begin);
        using var source = File.OpenRead(filesystemImage);
        source.CopyTo(target);
    }
}

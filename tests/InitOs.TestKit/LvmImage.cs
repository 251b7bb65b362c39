using InitOs.Tools;

namespace InitOs.TestKit;

/// <summary>
/// A disk holding one LVM volume group with one logical volume whose contents are a filesystem
/// image: made with the host's lvm on a loop device with activation off (the test hosts'
/// kernels have no device-mapper), the data written at the first extent (a new linear volume
/// starts there). lvm keeps nothing on the host: no metadata backups, no hints, its lock
/// directory in a temp directory.
/// </summary>
public static class LvmImage
{
    private const long ExtentBytes = 4 << 20;

    public static void Create(string filesystemImage, string output, string group, string volume)
    {
        long dataBytes = new FileInfo(filesystemImage).Length;
        long extents = (dataBytes + ExtentBytes - 1) / ExtentBytes;
        File.Delete(output);
        using (var file = File.Create(output))
        {
            file.SetLength((extents + 2) * ExtentBytes);
        }
        using var system = new TempDirectory("initos-lvm-");
        var env = new Dictionary<string, string> { ["LVM_SYSTEM_DIR"] = system.Path, ["LVM_SUPPRESS_FD_WARNINGS"] = "1" };
        string[] config = ["--config", $"global {{ locking_dir = \"{system.Path}\" }} devices {{ hints = \"none\" }} backup {{ backup = 0 archive = 0 }}"];
        var loop = ExternalTool.Run("losetup", ["--find", "--show", output]).Trim();
        long peStart;
        try
        {
            ExternalTool.Run("pvcreate", ["-q", .. config, loop], env);
            ExternalTool.Run("vgcreate", ["-q", .. config, "-s", "4M", group, loop], env);
            ExternalTool.Run("lvcreate", ["-q", .. config, "--driverloaded", "n", "-an", "-Zn", "-l", extents.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", volume, group], env);
            peStart = long.Parse(ExternalTool.Run("pvs", [.. config, "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", loop], env).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            ExternalTool.Run("losetup", ["-d", loop]);
        }
        using var disk = new FileStream(output, FileMode.Open, FileAccess.Write);
        using var data = File.OpenRead(filesystemImage);
        disk.Position = peStart;
        data.CopyTo(disk);
    }
}

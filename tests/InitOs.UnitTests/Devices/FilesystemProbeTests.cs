using InitOs.Init.Devices;
using InitOs.TestKit;

namespace InitOs.UnitTests.Devices;

/// <summary>The C# probes against images the real mkfs tools made, checked against blkid too.</summary>
public sealed class FilesystemProbeTests
{
    private const string Uuid = "8d1c7e52-4f3a-4b6d-9e21-0a5b3c7d9f14";

    private static FilesystemInfo? ProbeFile(string path)
    {
        using var stream = File.OpenRead(path);
        return FilesystemProbe.Probe(stream);
    }

    private static Dictionary<string, string> Blkid(string path) =>
        Tool.Run("blkid", "-p", "-o", "export", path).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static string Image(TempDirectory dir, int mib)
    {
        var path = dir.File("fs.img");
        using var file = File.Create(path);
        file.SetLength(mib * 1024L * 1024L);
        return path;
    }

    [Theory]
    [InlineData("ext4", "mkfs.ext4 -q -F -L {label} -U {uuid} {img}", 8)]
    [InlineData("ext3", "mkfs.ext3 -q -F -L {label} -U {uuid} {img}", 8)]
    [InlineData("ext2", "mkfs.ext2 -q -F -L {label} -U {uuid} {img}", 8)]
    [InlineData("btrfs", "mkfs.btrfs -q -f -L {label} -U {uuid} {img}", 128)]
    [InlineData("xfs", "mkfs.xfs -q -f -L {label} -m uuid={uuid} {img}", 300)]
    public void Reads_type_uuid_and_label_like_blkid(string type, string command, int mib)
    {
        using var dir = new TempDirectory();
        var img = Image(dir, mib);
        Tool.Run("sh", "-c", command.Replace("{label}", "os-root").Replace("{uuid}", Uuid).Replace("{img}", img));
        var info = ProbeFile(img);
        Assert.Equal(new FilesystemInfo(type, Uuid, "os-root"), info);
        var blkid = Blkid(img);
        Assert.Equal(blkid["TYPE"], info!.Type);
        Assert.Equal(blkid["UUID"], info.Uuid);
        Assert.Equal(blkid["LABEL"], info.Label);
    }

    [Theory]
    [InlineData("-F 32")]
    [InlineData("-F 16")]
    public void Reads_vfat_volume_id_and_label_like_blkid(string fatSize)
    {
        using var dir = new TempDirectory();
        var img = Image(dir, 64);
        Tool.Run("sh", "-c", $"mkfs.vfat {fatSize} -n ESP -i 1A2B3C4D {img} >/dev/null");
        var info = ProbeFile(img);
        Assert.Equal(new FilesystemInfo("vfat", "1A2B-3C4D", "ESP"), info);
        Assert.Equal(Blkid(img)["UUID"], info!.Uuid);
    }

    /// <summary>A LUKS2 header cryptsetup wrote (no device-mapper needed to format a file): blkid's type, the header's UUID and label.</summary>
    [Fact]
    public void Reads_a_luks2_header_like_blkid()
    {
        using var dir = new TempDirectory();
        var img = Image(dir, 20);
        File.WriteAllText(dir.File("key"), "passphrase");
        Tool.Run("cryptsetup", "luksFormat", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--uuid", Uuid, "--label", "vault", "--key-file", dir.File("key"), "--batch-mode", img);
        var info = ProbeFile(img);
        Assert.Equal(new FilesystemInfo("crypto_LUKS", Uuid, "vault"), info);
        var blkid = Blkid(img);
        Assert.Equal(blkid["TYPE"], info!.Type);
        Assert.Equal(blkid["UUID"], info.Uuid);
        Assert.Equal(blkid["LABEL"], info.Label);
    }

    [Fact]
    public void Reads_erofs_and_squashfs()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("tree"));
        File.WriteAllText(dir.File("tree/hello"), "hello");
        // Debian 12's mkfs.erofs (1.5) cannot set a volume label, only the UUID.
        Tool.Run("mkfs.erofs", "-U", Uuid, dir.File("e.img"), dir.File("tree"));
        Assert.Equal(new FilesystemInfo("erofs", Uuid, null), ProbeFile(dir.File("e.img")));
        Assert.Equal(Uuid, Blkid(dir.File("e.img"))["UUID"]);
        Tool.Run("mksquashfs", dir.File("tree"), dir.File("s.img"), "-quiet", "-noappend");
        Assert.Equal(new FilesystemInfo("squashfs", null, null), ProbeFile(dir.File("s.img")));
    }

    [Fact]
    public void Empty_short_and_garbage_input_is_no_filesystem()
    {
        Assert.Null(FilesystemProbe.Probe(new MemoryStream()));
        Assert.Null(FilesystemProbe.Probe(new MemoryStream(new byte[100])));
        var garbage = new byte[256 * 1024];
        new Random(42).NextBytes(garbage);
        Assert.Null(FilesystemProbe.Probe(new MemoryStream(garbage)));
    }
}

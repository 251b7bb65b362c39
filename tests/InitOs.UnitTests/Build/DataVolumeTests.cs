using InitOs.ImageBuild.Data;
using InitOs.TestKit;

namespace InitOs.UnitTests.Build;

/// <summary>`initos build data`: a real ext4 image from the staged tree, read back with debugfs.</summary>
public sealed class DataVolumeTests
{
    [Fact]
    public void The_volume_holds_the_images_and_an_empty_state_directory()
    {
        using var dir = new TempDirectory("initos-data-test-");
        var disk = dir.File("os.img");
        File.WriteAllText(disk, "a disk image");
        var tree = Directory.CreateDirectory(dir.File("tree")).FullName;
        File.WriteAllText(Path.Combine(tree, "hostname"), "jailed\n");
        var output = dir.File("data.img");

        DataVolume.Create(new DataVolume.Spec
        {
            FsType = "ext4",
            SizeMiB = 40,
            Images = new Dictionary<string, string> { ["os.img"] = disk, ["tree"] = tree },
        }, output);

        Assert.Contains("LABEL=\"initos-data\"", Tool.Run("blkid", output), StringComparison.Ordinal);
        var listing = Tool.Run("debugfs", "-R", "ls -p /images", output);
        Assert.Contains("/os.img/", listing, StringComparison.Ordinal);
        Assert.Contains("/tree/", listing, StringComparison.Ordinal);
        Assert.Equal("a disk image", Tool.Run("debugfs", "-R", "cat /images/os.img", output).Trim());
        Assert.Equal("jailed", Tool.Run("debugfs", "-R", "cat /images/tree/hostname", output).Trim());
        Assert.Contains("/state/", Tool.Run("debugfs", "-R", "ls -p /", output), StringComparison.Ordinal);
    }

    [Fact]
    public void Too_small_a_volume_is_refused_naming_the_size_needed_and_nothing_is_written()
    {
        using var dir = new TempDirectory("initos-data-test-");
        var big = dir.File("big.img");
        using (var file = File.Create(big))
        {
            file.SetLength(40L << 20);
        }
        var output = dir.File("data.img");

        var e = Assert.Throws<ArgumentException>(() => DataVolume.Create(new DataVolume.Spec { FsType = "ext4", SizeMiB = 48, Images = new Dictionary<string, string> { ["big.img"] = big } }, output));

        Assert.Contains("40 MiB of files do not fit in --size 48 MiB (give at least 104)", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}

using InitOs.Init.Config;

namespace InitOs.UnitTests.Config;

public sealed class ConfigLoaderTests
{
    private const string File = "/etc/initos/initos.toml";

    [Fact]
    public void Reads_every_key()
    {
        var config = ConfigLoader.Parse("""
            mode = "switch_root"
            on_failure = "poweroff"
            [root]
            device = "LABEL=os"
            fstype = "btrfs"
            options = "subvol=@"
            read_write = true
            wait_seconds = 12
            init = "/lib/systemd/systemd"
            [modules]
            load = ["virtio_blk", "ext4"]
            include = ["btrfs"]
            coldplug = false
            """, File);
        Assert.Equal(FailurePolicy.PowerOff, config.OnFailure);
        Assert.Equal("LABEL=os", config.Root.Device);
        Assert.Equal("btrfs", config.Root.FsType);
        Assert.Equal("subvol=@", config.Root.Options);
        Assert.True(config.Root.ReadWrite);
        Assert.Equal(12, config.Root.WaitSeconds);
        Assert.Equal("/lib/systemd/systemd", config.Root.Init);
        Assert.Equal(["virtio_blk", "ext4"], config.Modules.Load);
        Assert.Equal(["btrfs"], config.Modules.Include);
        Assert.False(config.Modules.Coldplug);
    }

    [Fact]
    public void Dotted_keys_at_top_level_mean_the_same_as_tables()
    {
        var config = ConfigLoader.Parse("root.device = \"UUID=1\"\nmodules.load = []\n", File);
        Assert.Equal("UUID=1", config.Root.Device);
    }

    [Fact]
    public void The_repository_default_config_is_valid()
    {
        var path = Path.Combine(TestKit.RepoPaths.Root, "image-build/defaults/initos.toml");
        var config = ConfigLoader.Load(path);
        Assert.Equal("LABEL=initos-root", config.Root.Device);
    }

    [Theory]
    [InlineData("mode = \"switch_root\"\n\n[root]\nwait_secs = 5\n", 4, "root.wait_secs", "unknown key")]
    [InlineData("mode = \"container\"\n", 1, "mode", "is not one of switch_root, privileged, unprivileged, vm")]
    [InlineData("\n[root]\nwait_seconds = \"ten\"\n", 3, "root.wait_seconds", "expected an integer")]
    [InlineData("[root]\nwait_seconds = 99999\n", 2, "root.wait_seconds", "out of range")]
    [InlineData("[root]\nread_write = 1\n", 2, "root.read_write", "expected true or false")]
    [InlineData("[root]\ninit = \"sbin/init\"\n", 2, "root.init", "expected an absolute path")]
    [InlineData("[modules]\nload = \"ext4\"\n", 2, "modules.load", "expected an array")]
    [InlineData("[modules]\nload = [\"a/b\"]\n", 2, "modules.load", "expected module names")]
    [InlineData("[[root]]\ndevice = \"x\"\n", 1, "root.0", "unknown key")]
    public void Errors_name_file_line_and_key(string text, int line, string key, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, File));
        Assert.Equal(line, e.Line);
        Assert.Equal(key, e.Key);
        Assert.StartsWith($"{File}:{line}: {key}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syntax_errors_name_file_and_line()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("mode = \"switch_root\"\nroot = = 3\n", File));
        Assert.StartsWith($"{File}:2: ", e.Message, StringComparison.Ordinal);
    }
}

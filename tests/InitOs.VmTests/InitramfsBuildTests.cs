using System.Security.Cryptography;
using InitOs.ImageBuild.Cpio;
using InitOs.ImageBuild.Initramfs;
using InitOs.ImageBuild.Kernel;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>The real initramfs (published box, Debian kernel): reproducible, and laid out as PID 1 expects.</summary>
[Collection(BootCollection.Name)]
public sealed class InitramfsBuildTests
{
    private static InitramfsSpec Spec(Compression compression) => new()
    {
        BoxBinary = RepoPaths.Require(RepoPaths.Box, "make box"),
        KernelDirectory = RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel"),
        ConfigFile = RepoPaths.DefaultConfig,
        Profile = InitOs.Init.Config.ModuleProfile.Explicit, // the generic profile's build is HardwareProfileTests'
        Compression = compression,
        ZstdLevel = 3,
    };

    [Theory]
    [InlineData(Compression.Zstd)]
    [InlineData(Compression.Gzip)]
    public void Two_builds_of_the_same_input_are_byte_identical(Compression compression)
    {
        using var dir = new TempDirectory();
        InitramfsBuilder.Build(Spec(compression), dir.File("a.img"));
        InitramfsBuilder.Build(Spec(compression), dir.File("b.img"));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(dir.File("a.img"))), SHA256.HashData(File.ReadAllBytes(dir.File("b.img"))));
    }

    [Fact]
    public void Cpio_lists_init_the_libraries_from_the_elf_header_modules_and_config()
    {
        using var dir = new TempDirectory();
        var report = InitramfsBuilder.Build(Spec(Compression.None), dir.File("plain.cpio"));
        var listing = Tool.Run("sh", "-c", $"cpio -t --quiet < {dir.File("plain.cpio")}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var version = KernelFolder.Open(RepoPaths.KernelDirectory).Version;
        foreach (var expected in new[]
        {
            "init", "bin/initos", "dev/console", "etc/initos/initos.toml", "etc/initrd-release", "bin/busybox", "bin/sh",
            "lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6",
            $"lib/modules/{version}/modules.dep", $"lib/modules/{version}/modules.alias", $"lib/modules/{version}/modules.softdep",
        })
        {
            Assert.Contains(expected, listing);
        }
        Assert.Contains(listing, p => p.EndsWith("/virtio_blk.ko", StringComparison.Ordinal));
        Assert.Contains(listing, p => p.EndsWith("/ext4.ko", StringComparison.Ordinal));
        // Parents come before children: every entry's directory was listed earlier.
        var seen = new HashSet<string>();
        foreach (var path in listing.Where(p => p != "TRAILER!!!"))
        {
            var parent = Path.GetDirectoryName(path);
            Assert.True(string.IsNullOrEmpty(parent) || seen.Contains(parent), $"{path} listed before its directory");
            seen.Add(path);
        }
        Assert.Contains("virtio_blk", report.Modules);
        Assert.Contains("crc32c_generic", report.Modules); // ext4's soft dependency, asked for at mount time
    }

    [Fact]
    public void A_config_with_an_unknown_key_is_refused_at_build_time_with_file_and_line()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.toml"), "[root]\ndevcie = \"LABEL=x\"\n");
        var e = Assert.Throws<InitOs.Init.Config.ConfigException>(() =>
            InitramfsBuilder.Build(Spec(Compression.None) with { ConfigFile = dir.File("bad.toml") }, dir.File("x.img")));
        Assert.StartsWith($"{dir.File("bad.toml")}:2: root.devcie: unknown key", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("x.img")));
    }
}

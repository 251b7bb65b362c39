using InitOs.ImageBuild.Cpio;
using InitOs.TestKit;

namespace InitOs.UnitTests.Build;

/// <summary>The managed newc writer, read back by GNU cpio.</summary>
public sealed class CpioArchiveTests
{
    private static CpioArchive Sample(string sourceFile)
    {
        var archive = new CpioArchive();
        archive.AddFile("/etc/initos/initos.toml", "mode = \"switch_root\"\n"u8.ToArray());
        archive.AddFileFrom("./bin/tool", sourceFile, 0x1ED);
        archive.AddSymlink("init", "/bin/tool");
        archive.AddCharDevice("dev/console", 5, 1);
        archive.AddDirectory("sysroot", 0x1C0);
        return archive;
    }

    private static byte[] Bytes(CpioArchive archive, Compression compression = Compression.None)
    {
        using var stream = new MemoryStream();
        InitramfsWriter.Write(archive, stream, compression, 1_700_000_000, zstdLevel: 3);
        return stream.ToArray();
    }

    [Fact]
    public void Cpio_lists_entries_sorted_with_parents_first()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tool"), "#!/bin/sh\n");
        File.WriteAllBytes(dir.File("a.cpio"), Bytes(Sample(dir.File("tool"))));
        var listing = Tool.Run("sh", "-c", $"cpio -t --quiet < {dir.File("a.cpio")}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["bin", "bin/tool", "dev", "dev/console", "etc", "etc/initos", "etc/initos/initos.toml", "init", "sysroot"], listing);
    }

    [Fact]
    public void Extracted_files_keep_content_modes_links_and_devices()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tool"), "#!/bin/sh\n");
        File.WriteAllBytes(dir.File("a.cpio"), Bytes(Sample(dir.File("tool"))));
        Directory.CreateDirectory(dir.File("x"));
        Tool.Run("sh", "-c", $"cd {dir.File("x")} && cpio -idm --quiet < {dir.File("a.cpio")}");
        Assert.Equal("mode = \"switch_root\"\n", File.ReadAllText(dir.File("x/etc/initos/initos.toml")));
        Assert.Equal("#!/bin/sh\n", File.ReadAllText(dir.File("x/bin/tool")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(dir.File("x/bin/tool")));
        Assert.Equal("/bin/tool", new FileInfo(dir.File("x/init")).LinkTarget);
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(dir.File("x/sysroot")));
        var console = Tool.Run("stat", "-c", "%F %t,%T %a", dir.File("x/dev/console")).Trim();
        Assert.Equal("character special file 5,1 600", console);
        Assert.Equal("1700000000", Tool.Run("stat", "-c", "%Y", dir.File("x/bin/tool")).Trim());
    }

    [Theory]
    [InlineData(Compression.Gzip, "gzip -dc")]
    [InlineData(Compression.Zstd, "zstd -dc")]
    public void Compressed_output_decompresses_to_the_same_archive(Compression compression, string decompress)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tool"), "x");
        File.WriteAllBytes(dir.File("plain"), Bytes(Sample(dir.File("tool"))));
        File.WriteAllBytes(dir.File("packed"), Bytes(Sample(dir.File("tool")), compression));
        Tool.Run("sh", "-c", $"{decompress} < {dir.File("packed")} > {dir.File("unpacked")}");
        Assert.Equal(File.ReadAllBytes(dir.File("plain")), File.ReadAllBytes(dir.File("unpacked")));
    }

    [Fact]
    public void The_same_input_gives_the_same_bytes_and_the_last_add_wins()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tool"), "x");
        Assert.Equal(Bytes(Sample(dir.File("tool")), Compression.Zstd), Bytes(Sample(dir.File("tool")), Compression.Zstd));
        var archive = Sample(dir.File("tool"));
        archive.AddFile("init", "replaced"u8.ToArray());
        Assert.Equal(9, archive.Paths.Count + 4); // 5 added paths; implicit parents are added at write time
        Assert.Contains("init", archive.Paths);
    }

    [Fact]
    public void A_missing_source_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new CpioArchive().AddFileFrom("bin/x", "/nonexistent/x"));
        Assert.Contains("/nonexistent/x", e.Message, StringComparison.Ordinal);
    }
}

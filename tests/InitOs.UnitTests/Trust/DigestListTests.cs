using InitOs.Init.Trust;
using InitOs.TestKit;

namespace InitOs.UnitTests.Trust;

public sealed class DigestListTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-digests-");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("abc  x\n", "kit.sha256:1: expected \"<64 lowercase hex digits>  <path>\"")]
    [InlineData("{0}  ../etc/shadow\n", "kit.sha256:1: \"../etc/shadow\" is not a relative path inside the directory")]
    [InlineData("{0}  /etc/shadow\n", "kit.sha256:1: \"/etc/shadow\" is not a relative path inside the directory")]
    [InlineData("{0}  a\n\n{0}  a\n", "kit.sha256:3: a is listed twice")]
    [InlineData("\n", "kit.sha256: lists no files")]
    public void A_bad_list_is_refused_naming_the_line(string text, string error)
    {
        var e = Assert.Throws<InvalidDataException>(() => DigestList.Parse(string.Format(System.Globalization.CultureInfo.InvariantCulture, text, new string('a', 64)), "kit.sha256"));
        Assert.Equal(error, e.Message);
    }

    [Fact]
    public void Only_listed_files_are_copied_each_checked_and_a_format_round_trips()
    {
        var from = Directory.CreateDirectory(_dir.File("from")).FullName;
        Directory.CreateDirectory(Path.Combine(from, "bin"));
        File.WriteAllText(Path.Combine(from, "bin/tool"), "#!/bin/sh\n");
        File.WriteAllText(Path.Combine(from, "data"), "data");
        File.WriteAllText(Path.Combine(from, "unlisted.so"), "not copied");
        var list = DigestList.Of(new Dictionary<string, string> { ["data"] = Path.Combine(from, "data"), ["bin/tool"] = Path.Combine(from, "bin/tool") }, "kit.sha256");
        var parsed = DigestList.Parse(list.Format(), "kit.sha256");
        var to = _dir.File("to");

        long bytes = parsed.CopyVerified(from, to, p => p == "bin/tool");

        Assert.Equal(14, bytes);
        Assert.Equal(["bin/tool", "data"], parsed.Entries.Select(e => e.Path));
        Assert.False(File.Exists(Path.Combine(to, "unlisted.so")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(to, "bin/tool")));
        Assert.Equal((UnixFileMode)0x1A4, File.GetUnixFileMode(Path.Combine(to, "data")));

        File.WriteAllText(Path.Combine(from, "data"), "dat4");
        var e = Assert.Throws<UntrustedFileException>(() => parsed.CopyVerified(from, to, _ => false));
        Assert.StartsWith($"{Path.Combine(from, "data")}: its SHA-256 is ", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(to, "data")));
        Assert.False(File.Exists(Path.Combine(to, "data.part")));

        File.Delete(Path.Combine(from, "data"));
        File.CreateSymbolicLink(Path.Combine(from, "data"), Path.Combine(from, "unlisted.so"));
        Assert.Contains("not a regular file", Assert.Throws<UntrustedFileException>(() => parsed.CopyVerified(from, to, _ => false)).Message, StringComparison.Ordinal);
        File.Delete(Path.Combine(from, "data"));
        Assert.Equal($"{Path.Combine(from, "data")}: it is missing (the signed kit.sha256 lists it): refused", Assert.Throws<UntrustedFileException>(() => parsed.CopyVerified(from, to, _ => false)).Message);
    }
}

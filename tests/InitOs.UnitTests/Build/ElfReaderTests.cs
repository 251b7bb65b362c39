using InitOs.ImageBuild.Elf;
using InitOs.TestKit;

namespace InitOs.UnitTests.Build;

public sealed class ElfReaderTests
{
    [Fact]
    public void Needed_libraries_and_interpreter_match_readelf()
    {
        var deps = ElfReader.Read("/bin/ls");
        var dynamic = Tool.Run("readelf", "-d", "/bin/ls");
        var expected = System.Text.RegularExpressions.Regex.Matches(dynamic, @"\(NEEDED\)\s+Shared library: \[(.+?)\]").Select(m => m.Groups[1].Value);
        Assert.Equal(expected, deps.Needed);
        Assert.Contains("[Requesting program interpreter: " + deps.Interpreter + "]", Tool.Run("readelf", "-l", "/bin/ls"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_closure_includes_transitive_libraries_and_the_interpreter()
    {
        var libraries = LibraryResolver.Resolve("/bin/ls");
        var names = libraries.Select(l => l.Name).ToList();
        Assert.Contains("ld-linux-x86-64.so.2", names);
        Assert.Contains("libc.so.6", names);
        Assert.Contains("libpcre2-8.so.0", names); // ls → libselinux → libpcre2: found only transitively
        Assert.All(libraries, l => Assert.Null(new FileInfo(l.SourcePath).LinkTarget));
    }

    [Fact]
    public void A_static_binary_needs_nothing()
    {
        var deps = ElfReader.Read("/bin/busybox");
        Assert.Null(deps.Interpreter);
        Assert.Empty(deps.Needed);
        Assert.Empty(LibraryResolver.Resolve("/bin/busybox"));
    }

    [Fact]
    public void Non_elf_input_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("script"), "#!/bin/sh\necho hi\n");
        var e = Assert.Throws<InvalidDataException>(() => ElfReader.Read(dir.File("script")));
        Assert.Contains("is not an ELF file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_library_names_it_and_the_directories_searched()
    {
        var e = Assert.Throws<FileNotFoundException>(() => LibraryResolver.Resolve("/bin/ls", ["/nonexistent"]));
        Assert.Matches(@"/bin/ls needs lib\S+\.so\.\d+, which is in none of /nonexistent", e.Message);
        Assert.Contains("/nonexistent", e.Message, StringComparison.Ordinal);
    }
}

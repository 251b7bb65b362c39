using InitOs.Init.Trust;
using InitOs.TestKit;

namespace InitOs.UnitTests.Trust;

/// <summary>
/// An OS tree against its manifest, on the real filesystem: the tree `initos build data`
/// stages verifies, and every kind of change a hostile data volume could make is refused by name.
/// </summary>
public sealed class TreeManifestTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-tree-");
    private readonly string _image;
    private readonly string _manifest;
    private readonly string _digest;

    public TreeManifestTests()
    {
        _image = Directory.CreateDirectory(_dir.File("os")).FullName;
        Directory.CreateDirectory(Path.Combine(_image, "etc"));
        Directory.CreateDirectory(Path.Combine(_image, "bin"));
        File.WriteAllText(Path.Combine(_image, "etc/hostname"), "trusted\n");
        File.WriteAllText(Path.Combine(_image, "etc/odd name%"), "spaces and percent in a name\n");
        File.Copy("/bin/busybox", Path.Combine(_image, "bin/busybox"));
        File.SetUnixFileMode(Path.Combine(_image, "bin/busybox"), (UnixFileMode)0x1ED);
        File.CreateSymbolicLink(Path.Combine(_image, "bin/sh"), "busybox");
        _manifest = _image + ".manifest";
        var text = TreeManifest.Of(_image);
        File.WriteAllText(_manifest, text);
        _digest = TreeManifest.Digest(text);
    }

    public void Dispose() => _dir.Dispose();

    private string Refusal() => Assert.Throws<UntrustedFileException>(() => TreeManifest.Verify(_image, _manifest, _digest)).Message;

    [Fact]
    public void The_tree_as_built_verifies_and_its_manifest_lists_type_mode_owner_and_content()
    {
        Assert.Equal(7, TreeManifest.Verify(_image, _manifest, _digest));
        var lines = File.ReadAllLines(_manifest);
        Assert.Equal(TreeManifest.Header, lines[0]);
        Assert.Contains("l 0777 0 0 busybox bin/sh", lines);
        Assert.Contains(lines, l => l.StartsWith("f 0755 0 0 ", StringComparison.Ordinal) && l.EndsWith(" bin/busybox", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith(" etc/odd%20name%25", StringComparison.Ordinal));
        Assert.Matches(@"^sha256:[0-9a-f]{64}$", _digest);
    }

    [Fact]
    public void One_changed_byte_is_refused_naming_the_file()
    {
        using (var file = File.Open(Path.Combine(_image, "bin/busybox"), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 4096;
            int b = file.ReadByte();
            file.Position = 4096;
            file.WriteByte((byte)(b ^ 1));
        }
        var e = Assert.Throws<UntrustedFileException>(() => TreeManifest.Verify(_image, _manifest, _digest));
        Assert.Contains("bin/busybox differs (content)", e.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(_image, "bin/busybox"), e.Path);
    }

    [Fact]
    public void A_new_mode_owner_entry_or_link_target_is_refused_and_each_is_named()
    {
        File.SetUnixFileMode(Path.Combine(_image, "etc/hostname"), (UnixFileMode)0x9ED); // setuid 0755
        InitOs.Sys.Files.Chown(Path.Combine(_image, "etc"), 1000, 0);
        File.WriteAllText(Path.Combine(_image, "etc/ld.so.preload"), "/tmp/evil.so\n");
        File.Delete(Path.Combine(_image, "bin/sh"));
        File.CreateSymbolicLink(Path.Combine(_image, "bin/sh"), "/run/initos/data/evil");
        File.Delete(Path.Combine(_image, "etc/odd name%"));

        var message = Refusal();

        Assert.Contains("bin/sh differs (content)", message, StringComparison.Ordinal);
        Assert.Contains("etc differs (owner)", message, StringComparison.Ordinal);
        Assert.Contains("etc/hostname differs (mode)", message, StringComparison.Ordinal);
        Assert.Contains("etc/ld.so.preload is not in the manifest", message, StringComparison.Ordinal);
        Assert.Contains("etc/odd%20name%25 is missing", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_turned_into_a_symlink_to_the_host_is_refused_without_being_followed()
    {
        File.Delete(Path.Combine(_image, "etc/hostname"));
        File.CreateSymbolicLink(Path.Combine(_image, "etc/hostname"), "/etc/hostname");

        Assert.Contains("etc/hostname differs (type, mode, content)", Refusal(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_manifest_is_refused_before_the_tree_is_read()
    {
        File.AppendAllText(_manifest, "f 0644 0 0 " + new string('0', 64) + " etc/extra\n");

        var message = Refusal();

        Assert.Contains($"{_manifest}: its digest is sha256:", message, StringComparison.Ordinal);
        Assert.Contains($"not the {_digest} the signed config pins", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_root_that_is_a_symlink_or_a_missing_manifest_is_refused()
    {
        var link = _dir.File("link");
        File.CreateSymbolicLink(link, _image);
        File.Copy(_manifest, link + ".manifest");
        Assert.Contains("is not a directory (a symlink or a file stands there)", Assert.Throws<UntrustedFileException>(() => TreeManifest.Verify(link, link + ".manifest", _digest)).Message, StringComparison.Ordinal);

        File.Delete(_manifest);
        Assert.Contains("missing (`initos build data --image` writes it beside the image)", Refusal(), StringComparison.Ordinal);
    }
}

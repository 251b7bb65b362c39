using InitOs.Sidecar.Ssh;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>The host-key directory is made private at every boot, whatever the data volume brought.</summary>
public sealed class HostKeyDirectoryTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-hostkeys-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_existing_open_directory_and_its_keys_become_root_only()
    {
        var keys = Path.Combine(_dir.Path, "keys");
        Directory.CreateDirectory(keys);
        File.SetUnixFileMode(keys, (UnixFileMode)0x1FF);
        var key = Path.Combine(keys, "dropbear_ed25519_host_key");
        File.WriteAllText(key, "secret");
        File.SetUnixFileMode(key, (UnixFileMode)0x1B6);

        SshSidecar.SecureHostKeys(keys);

        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(keys));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(key));
    }

    [Fact]
    public void A_symlinked_directory_or_key_is_refused_naming_it()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir.Path, "elsewhere")).FullName;
        var link = Path.Combine(_dir.Path, "keys");
        File.CreateSymbolicLink(link, elsewhere);

        var e = Assert.Throws<IOException>(() => SshSidecar.SecureHostKeys(link));
        Assert.Equal($"the host-key directory {link} is a symlink (to {elsewhere}); InitOS does not follow it", e.Message);

        var keys = Directory.CreateDirectory(Path.Combine(_dir.Path, "real")).FullName;
        File.CreateSymbolicLink(Path.Combine(keys, "dropbear_rsa_host_key"), "/etc/shadow");
        var k = Assert.Throws<IOException>(() => SshSidecar.SecureHostKeys(keys));
        Assert.Contains("dropbear_rsa_host_key is a symlink", k.Message, StringComparison.Ordinal);
    }
}

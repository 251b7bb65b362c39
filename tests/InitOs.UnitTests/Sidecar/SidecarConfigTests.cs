using InitOs.Init.Config;
using InitOs.Init.Sidecar;

namespace InitOs.UnitTests.Sidecar;

public sealed class SidecarConfigTests
{
    private const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxuS0kUAj/Yh3cO9QbGd7oQF4m+0Ly2n3e1n+Ck1OGW admin@example";

    [Fact]
    public void Ssh_on_adds_a_supervised_key_only_dropbear_forced_into_initos_admin()
    {
        var config = ConfigLoader.Parse($"[sidecar]\nssh = true\nport = 2222\nauthorized_keys = [\"{Key}\"]\n", "initos.toml");
        var settings = SettingsBuilder.Build(config, KernelCommandLine.Parse(""));
        var sshd = Assert.Single(settings.Services, s => s.Name == SshSidecar.ServiceName);
        Assert.Equal(RestartPolicy.Always, sshd.Restart);
        Assert.Equal(SshSidecar.Dropbear, sshd.Command[0]);
        // -s: no password logins at all; -j -k: no port forwarding; -c: the forced command.
        Assert.Contains("-s", sshd.Command);
        Assert.Contains("-j", sshd.Command);
        Assert.Contains("-k", sshd.Command);
        Assert.Equal(SshSidecar.AdminCommand, sshd.Command[sshd.Command.ToList().IndexOf("-c") + 1]);
        Assert.Equal("2222", sshd.Command[sshd.Command.ToList().IndexOf("-p") + 1]);
        Assert.Equal([Key], settings.Sidecar.AuthorizedKeys);
    }

    [Fact]
    public void Ssh_off_adds_nothing()
    {
        var settings = SettingsBuilder.Build(new InitosConfig(), KernelCommandLine.Parse(""));
        Assert.DoesNotContain(settings.Services, s => s.Name == SshSidecar.ServiceName);
    }

    [Theory]
    [InlineData("authorized_keys = [\"hunter2\"]", "initos.toml:2: sidecar.authorized_keys: \"hunter2\" is not a public key")]
    [InlineData("authorized_keys = [\"ssh-ed25519 not-base64!\"]", "is not a public key")]
    [InlineData("port = 0", "initos.toml:2: sidecar.port: 0 is out of range 1..65535")]
    [InlineData("host_key_dir = \"keys\"", "initos.toml:2: sidecar.host_key_dir: expected an absolute path")]
    public void A_bad_sidecar_table_names_file_line_and_key(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[sidecar]\n{line}\n", "initos.toml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

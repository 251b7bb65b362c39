using InitOs.Init.Supervision;
using InitOs.Init.Config;
using InitOs.Sidecar.Ssh;

namespace InitOs.UnitTests.Sidecar;

public sealed class SidecarConfigTests
{
    private const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxuS0kUAj/Yh3cO9QbGd7oQF4m+0Ly2n3e1n+Ck1OGW admin@example";

    [Fact]
    public void Ssh_on_adds_a_supervised_key_only_dropbear_forced_into_initos_admin()
    {
        var config = ConfigLoader.Parse($"[sidecar]\nssh = true\nport = 2222\nauthorized_keys = [\"{Key}\"]\n", "initos.toml");
        var settings = SettingsBuilder.Build(config, KernelCommandLine.Parse(""));
        var services = SshSidecar.WithSshd([.. settings.Services.Select(ServiceSpec.From)], settings.Sidecar);
        var sshd = Assert.Single(services, s => s.Name == SshSidecar.ServiceName);
        Assert.Equal(RestartPolicy.Always, sshd.Restart);
        // The door listens; each connection is a dropbear in inetd mode.
        Assert.Equal([SshSidecar.Box, SshDoorApplet.Name, "--port", "2222", "--protect", "yes", "--syslog", "/dev/log", "--"], sshd.Command.Take(9));
        var session = sshd.Command.Skip(9).ToList();
        Assert.Equal([SshSidecar.Dropbear, "-i"], session.Take(2));
        // -s: no password logins at all; -j -k: no port forwarding; not -c, which would replace each key's forced command.
        Assert.Contains("-s", session);
        Assert.Contains("-j", session);
        Assert.Contains("-k", session);
        Assert.DoesNotContain("-c", session);
        Assert.Equal([Key], settings.Sidecar.AuthorizedKeys);
    }

    [Fact]
    public void Listen_names_the_admin_interfaces_the_door_opens_on()
    {
        var config = ConfigLoader.Parse("[sidecar]\nssh = true\nlisten = [\"eth0\", \"bond0\"]\n", "initos.toml");
        var sshd = SshSidecar.Service(SettingsBuilder.Build(config, KernelCommandLine.Parse("")).Sidecar, syslog: null);
        Assert.Equal([SshSidecar.Box, SshDoorApplet.Name, "--port", "22", "--protect", "yes", "--listen", "eth0,bond0", "--"], sshd.Command.Take(9));
    }

    [Theory]
    [InlineData("<38>Dec  5 07:10:41 dropbear[86]: Pubkey auth succeeded for 'root'\n", "dropbear[86]: Pubkey auth succeeded for 'root'")]
    [InlineData("<35>dropbear[9]: Exit before auth: Timeout", "dropbear[9]: Exit before auth: Timeout")]
    [InlineData("no header at all", "no header at all")]
    public void Syslog_lines_lose_their_priority_and_timestamp(string datagram, string expected) =>
        Assert.Equal(expected, SyslogRelay.Message(datagram));

    [Fact]
    public void The_bridge_the_config_refuses_is_the_jails_bridge() =>
        Assert.Equal(InitOs.Jails.Network.JailNetworkConfig.DefaultBridgeName, SidecarConfig.JailBridge);

    [Fact]
    public void Ssh_off_adds_nothing()
    {
        var settings = SettingsBuilder.Build(new InitosConfig(), KernelCommandLine.Parse(""));
        Assert.DoesNotContain(SshSidecar.WithSshd([.. settings.Services.Select(ServiceSpec.From)], settings.Sidecar), s => s.Name == SshSidecar.ServiceName);
    }

    [Theory]
    [InlineData("authorized_keys = [\"hunter2\"]", "initos.toml:2: sidecar.authorized_keys: \"hunter2\" is not a public key")]
    [InlineData("authorized_keys = [\"ssh-ed25519 not-base64!\"]", "is not a public key")]
    [InlineData("port = 0", "initos.toml:2: sidecar.port: 0 is out of range 1..65535")]
    [InlineData("host_key_dir = \"keys\"", "initos.toml:2: sidecar.host_key_dir: expected an absolute path")]
    [InlineData("listen = [\"initos0\"]", "initos.toml:2: sidecar.listen: \"initos0\" is the jails' bridge: the admin door must not be open to jails")]
    [InlineData("listen = [\"a/b\"]", "initos.toml:2: sidecar.listen: \"a/b\" is not a network interface name")]
    [InlineData("listen = [\"sixteen-chars-xx\"]", "is not a network interface name (1-15 characters")]
    public void A_bad_sidecar_table_names_file_line_and_key(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[sidecar]\n{line}\n", "initos.toml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private const string OtherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEpdPAtI1Xs1FXmI8EZGf5rgbM1Q2TjXxt2zNR2DpRql rescue";

    [Fact]
    public void Command_line_keys_count_only_when_the_config_allows_them()
    {
        var cmdline = KernelCommandLine.Parse($"quiet initos.ssh_key=\"{OtherKey}\"");
        var closed = SettingsBuilder.Build(ConfigLoader.Parse($"[sidecar]\nssh = true\nauthorized_keys = [\"{Key}\"]\n", "initos.toml"), cmdline);
        Assert.Equal([Key], closed.Sidecar.AuthorizedKeys);
        Assert.Contains(closed.Warnings, w => w.Contains("initos.ssh_key parameter(s) ignored: sidecar.cmdline_keys is off", StringComparison.Ordinal));

        var open = SettingsBuilder.Build(ConfigLoader.Parse($"[sidecar]\nssh = true\ncmdline_keys = true\nauthorized_keys = [\"{Key}\"]\n", "initos.toml"), cmdline);
        Assert.Equal([Key, OtherKey], open.Sidecar.AuthorizedKeys);
        Assert.Empty(open.Warnings);

        var bad = Assert.Throws<ConfigException>(() => SettingsBuilder.Build(ConfigLoader.Parse("[sidecar]\ncmdline_keys = true\n", "initos.toml"), KernelCommandLine.Parse("initos.ssh_key=\"ssh-ed25519 x\"")));
        Assert.Contains("initos.ssh_key=\"ssh-ed25519 x\": not a public key", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_keys_live_on_the_data_volume_when_there_is_one_unless_a_directory_is_given()
    {
        Assert.Equal(SidecarConfig.DefaultHostKeyDirectory, SettingsBuilder.Build(new InitosConfig(), KernelCommandLine.Parse("")).Sidecar.HostKeys);
        var withData = SettingsBuilder.Build(ConfigLoader.Parse("[data]\ndevice = \"LABEL=initos-data\"\n", "initos.toml"), KernelCommandLine.Parse(""));
        Assert.Equal("/run/initos/data/state/ssh", withData.Sidecar.HostKeys);
        Assert.Equal("LABEL=initos-data", withData.Data?.Device);
        var given = SettingsBuilder.Build(ConfigLoader.Parse("[data]\ndevice = \"LABEL=d\"\n[sidecar]\nhost_key_dir = \"/keys\"\n", "initos.toml"), KernelCommandLine.Parse(""));
        Assert.Equal("/keys", given.Sidecar.HostKeys);
    }

    [Fact]
    public void The_command_line_names_or_removes_the_data_volume()
    {
        var config = ConfigLoader.Parse("[data]\ndevice = \"LABEL=initos-data\"\nwait_seconds = 5\n", "initos.toml");
        Assert.Equal("PARTLABEL=data", SettingsBuilder.Build(config, KernelCommandLine.Parse("initos.data=PARTLABEL=data")).Data?.Device);
        Assert.Equal(5, SettingsBuilder.Build(config, KernelCommandLine.Parse("")).Data?.WaitSeconds);
        Assert.Null(SettingsBuilder.Build(config, KernelCommandLine.Parse("initos.data=none")).Data);
        var bad = Assert.Throws<ConfigException>(() => SettingsBuilder.Build(config, KernelCommandLine.Parse("initos.data=sdb")));
        Assert.Contains("initos.data=sdb", bad.Message, StringComparison.Ordinal);
        var file = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[data]\ndevice = \"data\"\n", "initos.toml"));
        Assert.Contains("initos.toml:2: data.device: \"data\" is not a device name: expected /dev/NAME", file.Message, StringComparison.Ordinal);
    }
}

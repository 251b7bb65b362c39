using InitOs.Init.Config;

namespace InitOs.UnitTests.Config;

public sealed class SettingsBuilderTests
{
    private static BootSettings Build(string cmdline, InitosConfig? config = null) =>
        SettingsBuilder.Build(config ?? new InitosConfig(), KernelCommandLine.Parse(cmdline));

    [Fact]
    public void Command_line_overrides_the_config()
    {
        var config = new InitosConfig { Root = new RootConfig { Device = "LABEL=cfg", FsType = "xfs", Init = "/sbin/cfg-init", WaitSeconds = 7 } };
        var s = Build("root=PARTUUID=1234 rootfstype=ext4 rootflags=noatime init=/bin/sh initos.rootwait=3 initos.mode=switch_root initos.on_failure=reboot", config);
        Assert.Equal("PARTUUID=1234", s.Root);
        Assert.Equal("ext4", s.RootFsType);
        Assert.Equal("noatime", s.RootFlags);
        Assert.Equal("/bin/sh", s.Init);
        Assert.Equal(TimeSpan.FromSeconds(3), s.RootWait);
        Assert.Equal(FailurePolicy.Reboot, s.OnFailure);
    }

    [Fact]
    public void Config_applies_when_the_command_line_is_silent()
    {
        var config = new InitosConfig { Root = new RootConfig { Device = "LABEL=cfg", WaitSeconds = 7, ReadWrite = true }, OnFailure = FailurePolicy.PowerOff };
        var s = Build("console=ttyS0", config);
        Assert.Equal("LABEL=cfg", s.Root);
        Assert.True(s.ReadWrite);
        Assert.Equal(TimeSpan.FromSeconds(7), s.RootWait);
        Assert.Equal(FailurePolicy.PowerOff, s.OnFailure);
        Assert.Equal(["ttyS0"], s.Consoles);
    }

    [Fact]
    public void Rd_luks_name_adds_a_volume_by_its_luks_uuid_beside_the_configs()
    {
        var config = new InitosConfig { Crypt = [new CryptConfig { Device = "/dev/vda", Name = "root" }] };
        var s = Build("rd.luks.name=79A5471A-7129-43c5-ae59-bc1af98ea249=data", config);
        Assert.Equal(["root", "data"], s.Crypt.Select(v => v.Name));
        Assert.Equal("UUID=79a5471a-7129-43c5-ae59-bc1af98ea249", s.Crypt[1].Device);
        Assert.Equal([CryptKeySource.Passphrase], s.Crypt[1].Keys);
    }

    [Theory]
    [InlineData("rd.luks.name=79a5471a-7129-43c5-ae59-bc1af98ea249", "expected UUID=NAME")]
    [InlineData("rd.luks.name=not-a-uuid=data", "expected UUID=NAME")]
    [InlineData("rd.luks.name=79a5471a-7129-43c5-ae59-bc1af98ea249=root", "a volume named root is already opened")]
    public void A_bad_rd_luks_name_names_the_parameter(string cmdline, string problem)
    {
        var config = new InitosConfig { Crypt = [new CryptConfig { Device = "/dev/vda", Name = "root" }] };
        var e = Assert.Throws<ConfigException>(() => Build(cmdline, config));
        Assert.Contains("kernel command line: rd.luks.name=", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ro", false)]
    [InlineData("rw", true)]
    [InlineData("ro rw", true)]
    [InlineData("rw ro", false)]
    public void The_last_of_ro_and_rw_wins(string cmdline, bool readWrite) =>
        Assert.Equal(readWrite, Build(cmdline).ReadWrite);

    [Theory]
    [InlineData("initos.break=devices", "devices")]
    [InlineData("initos.break", "switch-root")]
    public void Break_names_a_phase_and_defaults_to_the_hand_off(string cmdline, string phase) =>
        Assert.Equal(phase, Build(cmdline).BreakBefore);

    [Theory]
    [InlineData("initos.rootwait=soon", "initos.rootwait=soon")]
    [InlineData("initos.mode=container", "initos.mode=container")]
    [InlineData("initos.on_failure=explode", "initos.on_failure=explode")]
    [InlineData("init=sbin/init", "init=sbin/init")]
    public void Bad_values_are_errors_that_name_the_parameter(string cmdline, string named)
    {
        var e = Assert.Throws<ConfigException>(() => Build(cmdline));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_initos_keys_become_warnings()
    {
        var s = Build("initos.rootwiat=5");
        Assert.Contains(s.Warnings, w => w.Contains("initos.rootwiat", StringComparison.Ordinal));
    }

    [Fact]
    public void The_failure_policy_can_be_read_before_the_config()
    {
        Assert.Equal(FailurePolicy.PowerOff, SettingsBuilder.PolicyFrom(KernelCommandLine.Parse("initos.on_failure=poweroff"), FailurePolicy.Shell));
        Assert.Equal(FailurePolicy.Shell, SettingsBuilder.PolicyFrom(KernelCommandLine.Parse("initos.on_failure=nonsense"), FailurePolicy.Shell));
    }
}

using InitOs.Init.Config;

namespace InitOs.UnitTests.Config;

public sealed class ServiceConfigTests
{
    private const string File = "/etc/initos/initos.toml";

    [Fact]
    public void Service_blocks_become_services_in_order()
    {
        var config = ConfigLoader.Parse("""
            mode = "initramfs"
            [shutdown]
            grace_seconds = 7
            [[service]]
            name = "sshd"
            command = ["/usr/sbin/sshd", "-D", "-e"]
            restart = "on-failure"
            stop_grace_seconds = 2
            [[service]]
            name = "console"
            command = ["/bin/sh"]
            console = true
            """, File);
        Assert.Equal(BootMode.Initramfs, config.Mode);
        Assert.Equal(7, config.ShutdownGraceSeconds);
        Assert.Equal(["sshd", "console"], config.Services.Select(s => s.Name));
        Assert.Equal(["/usr/sbin/sshd", "-D", "-e"], config.Services[0].Command);
        Assert.Equal(RestartPolicy.OnFailure, config.Services[0].Restart);
        Assert.Equal(2, config.Services[0].StopGraceSeconds);
        Assert.True(config.Services[1].Console);
        Assert.Equal(RestartPolicy.Always, config.Services[1].Restart);
        Assert.Equal(9, config.Services[1].Line);
    }

    [Theory]
    [InlineData("[[service]]\nname = \"a\"\n", 1, "service a", "needs a command")]
    [InlineData("[[service]]\ncommand = [\"/bin/true\"]\n", 1, "service", "needs a name")]
    [InlineData("[[service]]\nname = \"a\"\ncommand = [\"true\"]\n", 3, "service.0.command", "must be an absolute path")]
    [InlineData("[[service]]\nname = \"a\"\ncommand = []\n", 3, "service.0.command", "expected an array of words")]
    [InlineData("[[service]]\nname = \"a b\"\ncommand = [\"/bin/true\"]\n", 2, "service.0.name", "use letters")]
    [InlineData("[[service]]\nname = \"a\"\ncommand = [\"/bin/true\"]\nrestart = \"sometimes\"\n", 4, "service.0.restart", "is not one of always, on-failure, never")]
    [InlineData("[[service]]\nname = \"a\"\ncommand = [\"/bin/true\"]\n[[service]]\nname = \"a\"\ncommand = [\"/bin/true\"]\n", 5, "service.1.name", "already exists")]
    [InlineData("[[service]]\nname = \"a\"\ncommand = [\"/bin/true\"]\nuser = \"nobody\"\n", 4, "service.0.user", "unknown key")]
    public void Service_errors_name_file_line_and_key(string text, int line, string key, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, File));
        Assert.StartsWith($"{File}:{line}: {key}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }
}

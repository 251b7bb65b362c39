using InitOs.Init.Config;
using InitOs.Jails.Oci;
using InitOs.Os;
using InitOs.Jails.Planning;

namespace InitOs.UnitTests.Os;

public sealed class OsJailTests
{
    private static JailPlan Plan(bool unprivileged, bool hostNetwork = false)
    {
        var image = Directory.CreateTempSubdirectory("os-image-").FullName;
        try
        {
            var spec = OsJailSpec.Create(new OsJailOptions { Image = image, Init = "/sbin/init", InitArguments = ["single"], Hostname = "box", Unprivileged = unprivileged, HostNetwork = hostNetwork, Start = 2 });
            return JailPlanner.Plan(new Bundle("/run/initos/os", spec), OsJailSpec.Id, "/run/initos/jails/os");
        }
        finally
        {
            Directory.Delete(image);
        }
    }

    [Fact]
    public void The_os_spec_plans_cleanly_with_every_capability_but_module_loading()
    {
        var plan = Plan(unprivileged: false);
        Assert.Equal(["/sbin/init", "single"], plan.Process.Args);
        Assert.Contains("container=initos", plan.Process.Env);
        Assert.Contains("INITOS_JAIL_STARTS=2", plan.Process.Env);
        Assert.Equal("box", plan.Hostname);
        Assert.True(Capabilities.TryParse("CAP_SYS_BOOT", out var boot) && (plan.Process.Capabilities.Bounding & (1UL << boot)) != 0, "CAP_SYS_BOOT: the OS's reboot(2) must work");
        Assert.True(Capabilities.TryParse("CAP_SYS_ADMIN", out var admin) && (plan.Process.Capabilities.Effective & (1UL << admin)) != 0);
        Assert.True(Capabilities.TryParse("CAP_SYS_MODULE", out var module) && (plan.Process.Capabilities.Bounding & (1UL << module)) == 0);
        Assert.NotEmpty(plan.Process.Seccomp);
        Assert.Equal(0UL, plan.CloneFlags & Namespaces.User);
        Assert.NotEqual(0UL, plan.CloneFlags & Namespaces.Cgroup);
        Assert.NotEqual(0UL, plan.CloneFlags & Namespaces.Network);
        Assert.Contains(plan.Mounts, m => m.Destination == "/sys/fs/cgroup" && m.Type == "cgroup2");
        Assert.Contains(plan.Mounts, m => m.Destination == "/run" && m.Type == "tmpfs");
        Assert.Contains(plan.Mounts, m => m.Destination == "/tmp" && m.Type == "tmpfs");
        Assert.Equal("initos/os", plan.CgroupPath);
    }

    [Fact]
    public void Unprivileged_adds_a_user_namespace_and_host_network_drops_the_network_one()
    {
        Assert.NotEqual(0UL, Plan(unprivileged: true).CloneFlags & Namespaces.User);
        Assert.Equal(0UL, Plan(unprivileged: false, hostNetwork: true).CloneFlags & Namespaces.Network);
    }

    [Theory]
    [InlineData("on_poweroff = \"explode\"", "os.on_poweroff: \"explode\" is not one of restart, reboot, poweroff, halt")]
    [InlineData("stop_signal = \"SIGFOO\"", "os.stop_signal: \"SIGFOO\" is not a signal")]
    [InlineData("image = \"../etc\"", "os.image: \"../etc\" must be a name under the data volume's images/")]
    [InlineData("network = \"wifi\"", "os.network: \"wifi\" is not one of bridge, none, host")]
    [InlineData("image_digest = \"sha256:ABC\"", "os.image_digest: \"sha256:ABC\" is not \"sha256:\" and 64 lowercase hex digits")]
    [InlineData("image_digest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"", "os.image_digest: pins the manifest of os.image, and no os.image is set")]
    public void A_bad_os_table_names_file_line_and_key(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[os]\n{line}\n", "initos.toml"));
        Assert.Contains("initos.toml:2: " + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_os_table_reads_and_signals_parse_by_name_number_or_rtmin()
    {
        var digest = "sha256:" + new string('e', 64);
        var config = ConfigLoader.Parse($"[os]\nimage = \"debian\"\nimage_digest = \"{digest}\"\nstop_signal = \"SIGRTMIN+3\"\non_reboot = \"reboot\"\nkeep_upper = true\n", "initos.toml");
        Assert.Equal("debian", config.Os.Image);
        Assert.Equal(digest, config.Os.ImageDigest);
        Assert.Equal(37, config.Os.StopSignal);
        Assert.Equal(OsExitAction.Reboot, config.Os.OnReboot);
        Assert.True(config.Os.KeepUpper);
        Assert.Equal(12, InitOs.Sys.Signal.Parse("USR2"));
        Assert.Equal(15, InitOs.Sys.Signal.Parse("15"));
        Assert.Null(InitOs.Sys.Signal.Parse("RTMIN+40"));
    }
}

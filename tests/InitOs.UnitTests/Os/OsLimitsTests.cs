using InitOs.Init.Config;
using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Os;

namespace InitOs.UnitTests.Os;

public sealed class OsLimitsTests
{
    private const long GiB = 1L << 30;

    [Fact]
    public void By_default_the_os_gets_the_memory_less_a_host_reserve_and_tmpfs_a_quarter_and_a_tenth()
    {
        var limits = OsLimits.For(new OsConfig(), 8 * GiB);
        Assert.Equal(7 * GiB, limits.MemoryMaxBytes); // an eighth kept for the host
        Assert.Equal(OsLimits.DefaultPidsMax, limits.PidsMax);
        Assert.Equal(2048, limits.TmpSizeMiB);
        Assert.Equal(819, limits.RunSizeMiB);
        // A small machine keeps at least 256 MiB for the host.
        Assert.Equal(512L << 20, OsLimits.For(new OsConfig(), 768L << 20).MemoryMaxBytes);
    }

    [Fact]
    public void The_os_table_sets_each_bound()
    {
        var config = ConfigLoader.Parse("[os]\nmemory_max_mib = 300\npids_max = 99\ntmp_size_mib = 10\nrun_size_mib = 5\n", "initos.toml").Os;
        Assert.Equal(new OsLimits(300L << 20, 99, 10, 5), OsLimits.For(config, 4 * GiB));
    }

    [Theory]
    [InlineData("pids_max = 3", "initos.toml:2: os.pids_max: 3 is out of range 16..")]
    [InlineData("memory_max_mib = 0", "initos.toml:2: os.memory_max_mib: 0 is out of range 32..")]
    public void A_bound_out_of_range_names_file_line_and_key(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[os]\n{line}\n", "initos.toml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_os_jail_gets_them_as_cgroup_limits_and_tmpfs_sizes()
    {
        var spec = OsJailSpec.Create(new OsJailOptions { Image = "/", Init = "/sbin/init", Hostname = "box", Unprivileged = true, Limits = new OsLimits(300L << 20, 99, 10, 5) });
        var plan = JailPlanner.Plan(new Bundle("/run/initos/os", spec), OsJailSpec.Id, "/run/initos/jails/os");
        Assert.Contains(plan.Limits, l => l.File == "memory.max" && l.Value == (300L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(plan.Limits, l => l.File == "pids.max" && l.Value == "99");
        Assert.Contains(plan.Mounts, m => m.Destination == "/tmp" && m.Data != null && m.Data.Contains("size=10m", StringComparison.Ordinal));
        Assert.Contains(plan.Mounts, m => m.Destination == "/run" && m.Data != null && m.Data.Contains("size=5m", StringComparison.Ordinal));
    }
}

using InitOs.Admin;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

public sealed class AdminClientTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-admin-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Known_hosts_pin_on_first_use_and_refuse_a_changed_key_naming_the_line()
    {
        var hosts = new KnownHosts(_dir.File("sub/known_hosts"));
        Assert.Null(hosts.Check("a", 22, "ssh-ed25519", "SHA256:one"));
        Assert.Null(hosts.Check("b", 2222, "ssh-ed25519", "SHA256:two"));
        Assert.Null(hosts.Check("a", 22, "ssh-ed25519", "SHA256:one"));
        var refusal = hosts.Check("b", 2222, "ssh-ed25519", "SHA256:three");
        Assert.Equal($"the host key of b:2222 changed: it was ssh-ed25519 SHA256:two, now ssh-ed25519 SHA256:three. If that is expected (a reinstalled machine), remove line 2 of {hosts.Path}", refusal);
        Assert.Equal(2, File.ReadAllLines(hosts.Path).Length);
    }

    [Theory]
    [InlineData("box", "root", "box", 22)]
    [InlineData("box:2222", "root", "box", 2222)]
    [InlineData("admin@10.0.0.7:22", "admin", "10.0.0.7", 22)]
    public void Targets_parse_host_port_and_user(string text, string user, string host, int port) =>
        Assert.Equal(new AdminTarget(host, port, user), AdminTarget.Parse(text));

    [Fact]
    public void A_hosts_file_skips_comments_and_names_a_bad_line()
    {
        var file = _dir.File("hosts");
        File.WriteAllText(file, "# fleet\nbox1\n\nbox2:2222  # rack 2\nadmin@\n");
        var e = Assert.Throws<ArgumentException>(() => Fleet.ReadHosts(file));
        Assert.Equal($"{file}:5: \"\" is not a host, host:port or user@host:port", e.Message);
        File.WriteAllText(file, "box1\nbad host\n");
        e = Assert.Throws<ArgumentException>(() => Fleet.ReadHosts(file));
        Assert.Equal($"{file}:2: \"host\" is not an option of a host (pin=VERSION)", e.Message);
        File.WriteAllText(file, "# fleet\nbox1\n\nbox2:2222  # rack 2\n");
        Assert.Equal([new AdminTarget("box1"), new AdminTarget("box2", 2222)], Fleet.ReadHosts(file));
    }

    [Fact]
    public void A_fleet_runs_at_most_parallel_at_once_keeps_the_order_and_tabulates()
    {
        int running = 0, most = 0;
        var targets = Enumerable.Range(1, 6).Select(i => new AdminTarget($"h{i}")).ToList();
        var results = Fleet.Run(targets, 2, t =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(50);
            Interlocked.Decrement(ref running);
            return new AdminResult(t.ToString(), t.Host == "h3" ? 2 : 0, "fine\n", "bad request\n", TimeSpan.FromSeconds(1));
        });
        Assert.True(most <= 2, $"{most} ran at once");
        Assert.Equal(targets.Select(t => t.ToString()), results.Select(r => r.Host));
        var table = Fleet.Table(results);
        Assert.Matches(@"root@h3:22\s+FAILED\s+2\s+1\.0\s+bad request", table);
        Assert.EndsWith("5 of 6 hosts succeeded", table, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>`initos jail run|create --network …`: jails on a bridge reach each other and the host.</summary>
[Collection(JailCollection.Name)]
public sealed class JailNetworkRunTests : IDisposable
{
    private readonly string _bridge = "ibrj" + Guid.NewGuid().ToString("N")[..6];
    private readonly string _subnet = $"10.215.{Random.Shared.Next(1, 250)}.0/24";

    public void Dispose()
    {
        if (Directory.Exists($"/sys/class/net/{_bridge}"))
        {
            Tool.Run("ip", "link", "del", _bridge);
        }
        var allocations = Path.Combine("/run/initos/net", _bridge);
        if (Directory.Exists(allocations))
        {
            Directory.Delete(allocations, recursive: true);
        }
    }

    private string[] Network(string mode) => mode == "bridge"
        ? ["--network", "bridge", "--bridge", _bridge, "--subnet", _subnet]
        : ["--network", mode];

    [Fact]
    public void Two_jails_on_the_bridge_reach_each_other_and_the_host_reaches_them()
    {
        using var serverBundle = new TestBundle();
        serverBundle.WithShell("exec sleep 600");
        var server = JailCli.NewId("net-a");
        var created = JailCli.Run(["create", "--bundle", serverBundle.Save(), .. Network("bridge"), server]);
        try
        {
            Assert.True(created.Code == 0, created.ToString());
            Assert.Equal(0, JailCli.Run("start", server).Code);
            var hosts = File.ReadAllText($"/run/initos/jails/{server}/etc/hosts");
            var serverAddress = hosts.Split('\n').Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                .First(f => f.Length > 1 && f[1] == "testjail" && !f[0].StartsWith("127.", StringComparison.Ordinal))[0];

            using var clientBundle = new TestBundle();
            clientBundle.WithCapabilities("CAP_NET_RAW");
            var gateway = _subnet.Replace(".0/24", ".1", StringComparison.Ordinal);
            clientBundle.WithShell($"ip -4 addr show eth0 | grep inet; cat /etc/resolv.conf | head -1; ping -c1 -W3 {serverAddress} >/dev/null && echo REACHED-JAIL; ping -c1 -W3 {gateway} >/dev/null && echo REACHED-HOST");
            var client = JailCli.Run(["run", "--bundle", clientBundle.Save(), .. Network("bridge"), JailCli.NewId("net-b")]);

            Assert.True(client.Code == 0, client.ToString());
            Assert.Contains("REACHED-JAIL", client.Out, StringComparison.Ordinal);
            Assert.Contains("REACHED-HOST", client.Out, StringComparison.Ordinal);
            Assert.Contains("nameserver", client.Out, StringComparison.Ordinal);
            Tool.Run("ping", "-c1", "-W3", serverAddress);
        }
        finally
        {
            JailCli.Run("delete", "--force", server);
        }
        // Deleting the jail freed its veth and its address.
        Assert.Empty(Directory.GetFiles(Path.Combine("/run/initos/net", _bridge)));
        Assert.DoesNotContain("vj", Tool.Run("ip", "-o", "link", "show", "master", _bridge), StringComparison.Ordinal);
    }

    [Fact]
    public void None_has_only_loopback_up_and_host_shares_the_hosts_interfaces()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("ip -o link show | grep -c UP; ip -o link show | grep -c . ");
        var none = JailCli.Run(["run", "--bundle", bundle.Save(), .. Network("none"), JailCli.NewId("net-none")]);
        Assert.True(none.Code == 0, none.ToString());
        Assert.Equal("1\n1\n", none.Out);

        using var hostBundle = new TestBundle();
        var linux = hostBundle.Config["linux"]!.AsObject();
        var namespaces = linux["namespaces"]!.AsArray();
        namespaces.Remove(namespaces.First(n => n!["type"]!.GetValue<string>() == "network"));
        hostBundle.WithShell("ip -o link show | grep -c .");
        var host = JailCli.Run(["run", "--bundle", hostBundle.Save(), .. Network("host"), JailCli.NewId("net-host")]);
        Assert.True(host.Code == 0, host.ToString());
        Assert.True(int.Parse(host.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 1, host.ToString());

        var mismatch = JailCli.Run(["run", "--bundle", bundle.Save(), .. Network("host"), JailCli.NewId("net-bad")]);
        Assert.Equal(1, mismatch.Code);
        Assert.Contains("--network host shares the host's network, but the spec asks for a network namespace", mismatch.Err, StringComparison.Ordinal);
    }
}

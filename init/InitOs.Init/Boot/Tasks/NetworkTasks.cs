using System.Net;
using InitOs.Init.Config;
using InitOs.Init.Network;
using InitOs.Sys.Netlink;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// Brings up the sidecar's network over rtnetlink: waits (bounded) for the interface the NIC
/// driver makes, sets lo and it up, then a static address and default route, or a DHCP lease.
/// A network that does not come up is logged as an error, and the boot goes on: the machine's
/// own OS matters more than the admin door.
/// </summary>
public static class NetworkTasks
{
    public const string ResolvConf = "/etc/resolv.conf";

    public static void BringUp(BootContext context)
    {
        var settings = context.RequireSettings().Network;
        var deadline = DateTime.UtcNow + settings.Wait;
        try
        {
            var name = WaitForInterface(settings.Interface, deadline);
            using var netlink = RouteNetlink.Open();
            netlink.SetUp("lo");
            netlink.SetUp(name);
            var (address, prefix, gateway, dns, how) = settings.Mode == NetworkMode.Static
                ? (settings.Address!, settings.PrefixLength, settings.Gateway, settings.Dns, "static")
                : FromDhcp(name, deadline);
            netlink.AddIPv4Address(name, address, prefix);
            if (gateway is not null)
            {
                netlink.AddDefaultRoute(gateway, name);
            }
            WriteResolvConf(dns);
            context.Log.Info($"network: {name} {address}/{prefix}{(gateway is null ? "" : $" via {gateway}")} ({how}){(dns.Count > 0 ? $", dns {string.Join(' ', dns)}" : "")}");
        }
        catch (Exception e) when (e is InvalidOperationException or Sys.SysException or IOException or TimeoutException)
        {
            context.Log.Error($"network ({settings.Describe()}) did not come up: {e.Message}; booting without it");
        }
    }

    private static (IPAddress, int, IPAddress?, IReadOnlyList<IPAddress>, string) FromDhcp(string name, DateTime deadline)
    {
        var lease = new DhcpClient(name, MacOf(name)).Acquire(deadline - DateTime.UtcNow);
        return (lease.Address, lease.PrefixLength, lease.Gateway, lease.Dns, $"dhcp from {lease.Server}, lease {lease.Lease.TotalSeconds:F0} s");
    }

    /// <summary>The named interface, or the first one other than lo, once the kernel has it.</summary>
    private static string WaitForInterface(string? wanted, DateTime deadline)
    {
        while (true)
        {
            var present = Directory.Exists("/sys/class/net") ? Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList() : [];
            var found = wanted is null ? present.FirstOrDefault(n => n != "lo") : present.FirstOrDefault(n => n == wanted);
            if (found is not null)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no network interface {wanted ?? "other than lo"} appeared (present: {string.Join(' ', present)}); is its driver in modules.include?");
            }
            Thread.Sleep(50);
        }
    }

    private static byte[] MacOf(string name) =>
        Convert.FromHexString(File.ReadAllText($"/sys/class/net/{name}/address").Trim().Replace(":", "", StringComparison.Ordinal));

    private static void WriteResolvConf(IReadOnlyList<IPAddress> dns)
    {
        if (dns.Count > 0)
        {
            File.WriteAllText(ResolvConf, string.Concat(dns.Select(d => $"nameserver {d}\n")));
        }
    }
}

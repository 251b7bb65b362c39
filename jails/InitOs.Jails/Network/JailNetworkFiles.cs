using System.Net;
using System.Net.Sockets;
using System.Text;

namespace InitOs.Jails.Network;

/// <summary>A file the runtime bind-mounts into the jail: where, and what it holds.</summary>
public sealed record JailNetworkFile(string PathInJail, string Content);

/// <summary>
/// The contents of a jail's /etc/resolv.conf, /etc/hostname and /etc/hosts. Pure: the caller
/// passes the host's resolv.conf text and writes and mounts the results.
/// </summary>
public static class JailNetworkFiles
{
    public const string ResolvConfPath = "/etc/resolv.conf";
    public const string HostnamePath = "/etc/hostname";
    public const string HostsPath = "/etc/hosts";
    public const string HostResolvConfPath = "/etc/resolv.conf";

    /// <summary>QEMU user networking's DNS, the fallback when nothing better is known.</summary>
    public static readonly IPAddress FallbackNameserver = IPAddress.Parse("10.0.2.3");

    /// <summary>All three files for a jail.</summary>
    public static IReadOnlyList<JailNetworkFile> For(JailNetworkConfig config, string hostname, IPAddress? jailAddress, string? hostResolvConf) =>
    [
        new(ResolvConfPath, ResolvConf(config, hostResolvConf)),
        new(HostnamePath, Hostname(hostname)),
        new(HostsPath, Hosts(hostname, jailAddress)),
    ];

    /// <summary>The host's /etc/resolv.conf, or null when it has none.</summary>
    public static string? ReadHostResolvConf()
    {
        try
        {
            return File.ReadAllText(HostResolvConfPath);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Host mode shares the host's network, so its resolv.conf works unchanged (even a local
    /// stub at 127.0.0.53). None mode has no DNS. Bridge mode uses the configured servers,
    /// else the host's IPv4 servers that are not loopback (the jail's 127.x is its own),
    /// else <see cref="FallbackNameserver"/>.
    /// </summary>
    public static string ResolvConf(JailNetworkConfig config, string? hostResolvConf)
    {
        switch (config.Mode)
        {
            case NetworkMode.Host:
                return hostResolvConf ?? "";
            case NetworkMode.None:
                return "# no network in this jail\n";
            default:
                var servers = config.Nameservers ?? UsableHostNameservers(hostResolvConf);
                if (servers.Count == 0)
                {
                    servers = [FallbackNameserver];
                }
                var text = new StringBuilder();
                foreach (var server in servers)
                {
                    text.Append("nameserver ").Append(server).Append('\n');
                }
                return text.ToString();
        }
    }

    /// <summary>The "nameserver" lines of a resolv.conf a bridged jail can reach: IPv4, not loopback.</summary>
    public static IReadOnlyList<IPAddress> UsableHostNameservers(string? resolvConf)
    {
        var servers = new List<IPAddress>();
        foreach (var line in (resolvConf ?? "").Split('\n'))
        {
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == "nameserver"
                && IPAddress.TryParse(fields[1], out var address)
                && address.AddressFamily == AddressFamily.InterNetwork
                && !IPAddress.IsLoopback(address))
            {
                servers.Add(address);
            }
        }
        return servers;
    }

    /// <summary>/etc/hostname: the name and a newline. The name must be a valid host name (RFC 1123).</summary>
    public static string Hostname(string hostname)
    {
        ValidateHostname(hostname);
        return hostname + "\n";
    }

    /// <summary>/etc/hosts: localhost, and the jail's name on its address (or on 127.0.1.1 without one).</summary>
    public static string Hosts(string hostname, IPAddress? jailAddress)
    {
        ValidateHostname(hostname);
        return $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{jailAddress?.ToString() ?? "127.0.1.1"}\t{hostname}\n";
    }

    private static void ValidateHostname(string hostname)
    {
        bool valid = hostname.Length is > 0 and <= 64
            && hostname.Split('.').All(label => label.Length is > 0 and <= 63
                && label[0] != '-' && label[^1] != '-'
                && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));
        if (!valid)
        {
            throw new ArgumentException($"'{hostname}' is not a valid host name (letters, digits, '-' and '.', at most 64 characters)", nameof(hostname));
        }
    }
}

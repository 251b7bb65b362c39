using System.Net;

namespace InitOs.Init.Config;

/// <summary>
/// The kernel's (and dracut's) `ip=` parameter:
/// `ip=dhcp|on|any|off|none`, `ip=IFACE:dhcp`, or
/// `ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:IFACE:AUTOCONF[:DNS0[:DNS1]]`.
/// A value that cannot be understood is an error naming it, not a boot without network.
/// </summary>
public static class IpParameter
{
    public static NetworkSettings Parse(string value, NetworkSettings defaults)
    {
        switch (value)
        {
            case "off" or "none":
                return defaults with { Mode = NetworkMode.Off };
            case "dhcp" or "on" or "any" or "both":
                return defaults with { Mode = NetworkMode.Dhcp };
        }
        var fields = value.Split(':');
        if (fields.Length == 2 && IsDhcp(fields[1]))
        {
            return defaults with { Mode = NetworkMode.Dhcp, Interface = NonEmpty(fields[0]) };
        }
        if (fields.Length < 7)
        {
            throw Bad(value, "expected dhcp, off, IFACE:dhcp or CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:IFACE:AUTOCONF");
        }
        var settings = defaults with
        {
            Interface = NonEmpty(fields[5]),
            Hostname = NonEmpty(fields[4]),
            Dns = fields.Skip(7).Take(2).Where(f => f.Length > 0).Select(f => Address(value, f, "DNS server")).ToList(),
        };
        var autoconf = fields[6];
        if (IsDhcp(autoconf))
        {
            return settings with { Mode = NetworkMode.Dhcp };
        }
        if (autoconf is not ("" or "off" or "none" or "static"))
        {
            throw Bad(value, $"autoconf \"{autoconf}\" is not one of off, none, dhcp, on, any");
        }
        if (fields[0].Length == 0 || fields[3].Length == 0)
        {
            throw Bad(value, "a static address needs CLIENT and NETMASK");
        }
        return settings with
        {
            Mode = NetworkMode.Static,
            Address = Address(value, fields[0], "client address"),
            PrefixLength = PrefixOf(value, fields[3]),
            Gateway = fields[2].Length > 0 ? Address(value, fields[2], "gateway") : null,
        };
    }

    private static bool IsDhcp(string autoconf) => autoconf is "dhcp" or "on" or "any" or "both";

    private static string? NonEmpty(string field) => field.Length > 0 ? field : null;

    private static IPAddress Address(string value, string field, string what) =>
        IPAddress.TryParse(field, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? address
            : throw Bad(value, $"{what} \"{field}\" is not an IPv4 address");

    /// <summary>A dotted netmask (255.255.255.0) or a prefix length (24).</summary>
    private static int PrefixOf(string value, string netmask)
    {
        if (int.TryParse(netmask, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix) && prefix <= 32)
        {
            return prefix;
        }
        var bytes = Address(value, netmask, "netmask").GetAddressBytes();
        uint mask = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        int length = System.Numerics.BitOperations.PopCount(mask);
        return mask == (length == 0 ? 0 : uint.MaxValue << (32 - length)) ? length : throw Bad(value, $"netmask {netmask} is not contiguous");
    }

    private static ConfigException Bad(string value, string problem) => new($"kernel command line: ip={value}: {problem}");
}

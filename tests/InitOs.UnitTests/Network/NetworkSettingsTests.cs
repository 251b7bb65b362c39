using System.Buffers.Binary;
using System.Net;
using InitOs.Init.Config;
using InitOs.Init.Network;

namespace InitOs.UnitTests.Network;

public sealed class NetworkSettingsTests
{
    private static NetworkSettings Ip(string value) => IpParameter.Parse(value, new NetworkSettings());

    [Theory]
    [InlineData("dhcp", NetworkMode.Dhcp, null)]
    [InlineData("on", NetworkMode.Dhcp, null)]
    [InlineData("off", NetworkMode.Off, null)]
    [InlineData("eth1:dhcp", NetworkMode.Dhcp, "eth1")]
    [InlineData("::::box:eth0:dhcp", NetworkMode.Dhcp, "eth0")]
    public void Ip_selects_dhcp_or_off_and_the_interface(string value, NetworkMode mode, string? iface)
    {
        var settings = Ip(value);
        Assert.Equal(mode, settings.Mode);
        Assert.Equal(iface, settings.Interface);
    }

    [Fact]
    public void Ip_in_the_kernel_form_gives_a_static_address_gateway_hostname_and_dns()
    {
        var settings = Ip("10.0.2.15::10.0.2.2:255.255.255.0:box:eth0:off:10.0.2.3");
        Assert.Equal(NetworkMode.Static, settings.Mode);
        Assert.Equal(IPAddress.Parse("10.0.2.15"), settings.Address);
        Assert.Equal(24, settings.PrefixLength);
        Assert.Equal(IPAddress.Parse("10.0.2.2"), settings.Gateway);
        Assert.Equal("box", settings.Hostname);
        Assert.Equal("eth0", settings.Interface);
        Assert.Equal([IPAddress.Parse("10.0.2.3")], settings.Dns);
        Assert.Equal(20, Ip("10.1.0.5:::20::eth0:none").PrefixLength);
    }

    [Theory]
    [InlineData("bogus", "expected dhcp, off, IFACE:dhcp")]
    [InlineData("10.0.2.15::10.0.2.2:255.0.255.0::eth0:off", "netmask 255.0.255.0 is not contiguous")]
    [InlineData("10.0.2.x:::24::eth0:off", "client address \"10.0.2.x\" is not an IPv4 address")]
    [InlineData("10.0.2.15:::24::eth0:bootp", "autoconf \"bootp\" is not one of")]
    [InlineData(":::24::eth0:off", "a static address needs CLIENT and NETMASK")]
    public void A_bad_ip_parameter_is_an_error_that_quotes_it(string value, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => Ip(value));
        Assert.Contains($"ip={value}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_config_network_table_is_read_and_the_command_line_wins()
    {
        var config = ConfigLoader.Parse("""
            [network]
            mode = "static"
            interface = "eth0"
            address = "192.168.7.2/24"
            gateway = "192.168.7.1"
            dns = ["192.168.7.1", "9.9.9.9"]
            wait_seconds = 20
            """, "initos.toml");
        Assert.Equal(NetworkMode.Static, config.Network.Mode);
        Assert.Equal(IPAddress.Parse("192.168.7.2"), config.Network.Address);
        Assert.Equal(24, config.Network.PrefixLength);
        Assert.Equal(2, config.Network.Dns.Count);
        Assert.Equal(TimeSpan.FromSeconds(20), config.Network.Wait);
        var settings = SettingsBuilder.Build(config, KernelCommandLine.Parse("ip=dhcp"));
        Assert.Equal(NetworkMode.Dhcp, settings.Network.Mode);
        Assert.Equal("eth0", settings.Network.Interface);
    }

    [Theory]
    [InlineData("[network]\nmode = \"static\"\n", "initos.toml:2: network.mode: mode = \"static\" needs an address")]
    [InlineData("[network]\naddress = \"10.0.0.1\"\n", "initos.toml:2: network.address: \"10.0.0.1\": expected ADDRESS/PREFIX")]
    [InlineData("[network]\ndns = [\"one.one\"]\n", "initos.toml:2: network.dns: \"one.one\" is not an IPv4 address")]
    public void A_bad_network_table_names_file_line_and_key(string toml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(toml, "initos.toml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_discover_is_a_broadcast_bootrequest_with_the_mac_and_the_options_asked_for()
    {
        byte[] mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        var bytes = DhcpMessage.Discover(0xCAFEBABE, mac).Encode();
        Assert.Equal(1, bytes[0]);
        Assert.Equal(0xCAFEBABEu, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)));
        Assert.Equal(0x8000, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(10)));
        Assert.Equal(mac, bytes[28..34]);
        Assert.Equal(new byte[] { 99, 130, 83, 99, 53, 1, 1 }, bytes[236..243]);
        Assert.Equal(255, bytes[^1]);
    }

    [Fact]
    public void A_server_ack_parses_into_address_mask_router_dns_and_lease()
    {
        var reply = DhcpMessage.Discover(7, [1, 2, 3, 4, 5, 6]).Encode();
        reply[0] = 2;
        new byte[] { 10, 0, 2, 15 }.CopyTo(reply, 16);
        byte[] options = [53, 1, 5, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3, 51, 4, 0, 1, 81, 128, 54, 4, 10, 0, 2, 2, 255];
        var message = DhcpMessage.Parse([.. reply[..240], .. options])!;
        Assert.Equal(DhcpType.Ack, message.Type);
        Assert.Equal(7u, message.TransactionId);
        Assert.Equal(IPAddress.Parse("10.0.2.15"), message.YourAddress);
        Assert.Equal(IPAddress.Parse("255.255.255.0"), message.Address(DhcpMessage.OptionSubnetMask));
        Assert.Equal([IPAddress.Parse("10.0.2.3")], message.Addresses(DhcpMessage.OptionDns));
        Assert.Equal(86400u, message.Seconds(DhcpMessage.OptionLeaseTime));
        Assert.Null(DhcpMessage.Parse(reply.AsSpan(0, 100)));
        Assert.Null(DhcpMessage.Parse([.. reply[..240], 53, 5, 1]));
    }
}

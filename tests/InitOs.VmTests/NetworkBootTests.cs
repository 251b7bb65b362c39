using System.Net;
using System.Net.Sockets;
using System.Text;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The sidecar's network, brought up by PID 1 from `ip=`: a DHCP lease from QEMU's user-mode
/// network (the project's own client), or a static address; either way the guest then reaches
/// a server on this host through QEMU's gateway.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class NetworkBootTests
{
    private static readonly string Config = GuestConfig.Pid1(GuestConfig.ConsoleShell, GuestConfig.NetworkModules);

    private readonly BootImages _images;

    public NetworkBootTests(BootImages images) => _images = images;

    private string Initramfs() => _images.InitramfsWith("network", Config);

    [Theory]
    [InlineData("ip=dhcp", @"network: eth0 10\.0\.2\.15/24 via 10\.0\.2\.2 \(dhcp from 10\.0\.2\.2, lease \d+ s\), dns 10\.0\.2\.3")]
    [InlineData("ip=10.0.2.16::10.0.2.2:255.255.255.0::eth0:off:10.0.2.3", @"network: eth0 10\.0\.2\.16/24 via 10\.0\.2\.2 \(static\), dns 10\.0\.2\.3")]
    public async Task The_interface_comes_up_and_reaches_a_server_on_the_host(string ip, string logLine)
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        var serving = Task.Run(() => ServeOnce(server));
        using var vm = new VmBoot("network-" + ip.Split('=')[1].Split(':')[0], new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = Initramfs(),
            Append = $"console=ttyS0 panic=-1 quiet {ip}",
            Network = true,
        });
        vm.Expect(logLine);
        vm.Expect("service console: started");
        // QEMU's user network forwards the gateway's address to this host's loopback.
        vm.Session.Send($"\nwget -q -O - http://10.0.2.2:{port}/ ; echo WGET=$?\n");
        vm.Expect("HELLO-FROM-HOST");
        vm.Expect("WGET=0");
        await serving.WaitAsync(TimeSpan.FromSeconds(30));
        // busybox's flags: -d waits first, -f powers off at once, without PID 1's orderly shutdown.
        vm.Session.Send("/sbin/poweroff -d 1 -f\n");
        vm.ExpectExit(TimeSpan.FromSeconds(30));
    }

    private static void ServeOnce(TcpListener server)
    {
        using var client = server.AcceptTcpClient();
        using var stream = client.GetStream();
        var buffer = new byte[4096];
        _ = stream.Read(buffer);
        stream.Write(Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\nContent-Length: 16\r\n\r\nHELLO-FROM-HOST\n"));
    }
}

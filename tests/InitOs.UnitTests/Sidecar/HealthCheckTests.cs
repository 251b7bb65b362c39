using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using InitOs.Init.Config;
using InitOs.Init.Supervision;
using InitOs.Sidecar.Upgrades;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>
/// The trial boot's verdict: good once the services have stayed up for settle_seconds and every
/// probe passes; bad, naming what failed, when the deadline comes first. A real listening socket
/// and a real services file; the boot's clock is the test's own, starting now.
/// </summary>
public sealed class HealthCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-health-test-");
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Dispose() => _dir.Dispose();

    private string Services(params (string Name, ServiceState State, string LastExit)[] services)
    {
        var path = _dir.File("services.json");
        StatusFile.Write(services.Select(s => new ServiceStatus { Name = s.Name, State = s.State, Pid = 10, Starts = 1, LastExit = s.LastExit }), 0, path);
        return path;
    }

    private string? Judge(string services, int settle, int deadline, params UpgradeProbe[] probes) =>
        Judge(BootMode.Initramfs, services, settle, deadline, probes);

    private string? Judge(BootMode mode, string services, int settle, int deadline, params UpgradeProbe[] probes)
    {
        var settings = new InitosConfig
        {
            Mode = mode,
            Upgrade = new UpgradeConfig { SettleSeconds = settle, DeadlineSeconds = deadline, Probes = probes },
        };
        return new HealthCheck(settings, services, () => _clock.Elapsed.TotalSeconds, guestUpFile: _dir.File("guest-up")).Wait();
    }

    [Fact]
    public void Services_up_through_the_settle_time_and_an_open_port_are_a_good_verdict()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var services = Services(("web", ServiceState.Running, ""), ("setup", ServiceState.Stopped, "pid 7 exited 0"), (UpgradeJudge.ServiceName, ServiceState.Running, ""));

        Assert.Null(Judge(services, settle: 1, deadline: 20, new UpgradeProbe { Tcp = $"127.0.0.1:{port}" }));
        Assert.InRange(_clock.Elapsed.TotalSeconds, 1, 10);
    }

    [Fact]
    public void A_closed_port_at_the_deadline_is_a_bad_verdict_that_names_the_probe()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var verdict = Judge(Services(("web", ServiceState.Running, "")), settle: 0, deadline: 2, new UpgradeProbe { Tcp = $"127.0.0.1:{port}" });

        Assert.StartsWith($"not healthy 2 s after the boot: probe tcp 127.0.0.1:{port}: ", verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void An_http_probe_passes_on_200_and_names_the_status_otherwise()
    {
        var services = Services(("web", ServiceState.Running, ""));
        Assert.Null(Judge(services, settle: 0, deadline: 10, new UpgradeProbe { Http = $"http://127.0.0.1:{Serve("200 OK")}/health" }));
        var verdict = Judge(services, settle: 0, deadline: 2, new UpgradeProbe { Http = $"http://127.0.0.1:{Serve("503 Service Unavailable")}/health" });
        Assert.EndsWith("/health: HTTP status 503", verdict, StringComparison.Ordinal);
    }

    /// <summary>A server that answers every request with <paramref name="status"/>, on a port of its own; its port.</summary>
    private static int Serve(string status)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        new Thread(() =>
        {
            while (true)
            {
                using var client = listener.AcceptTcpClient();
                using var stream = client.GetStream();
                var request = new byte[1024];
                _ = stream.Read(request);
                stream.Write(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.0 {status}\r\nContent-Length: 0\r\n\r\n"));
            }
        }) { IsBackground = true }.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public void A_service_that_is_down_is_a_bad_verdict_that_names_it()
    {
        var verdict = Judge(Services(("web", ServiceState.CrashLoop, "pid 9 exited 1")), settle: 0, deadline: 1);

        Assert.Equal("not healthy 1 s after the boot: service web is crashloop (last exit: pid 9 exited 1)", verdict);
    }

    /// <summary>Mode vm: QEMU running is not enough; the guest of this start must have reached its OS (PID 1's mark), and a command probe has no jail to run in.</summary>
    [Fact]
    public void In_mode_vm_the_guest_must_have_reached_its_os_and_a_command_probe_is_refused_by_name()
    {
        var services = Services((OsRestartSignals.Service, ServiceState.Running, ""));
        Assert.Equal("not healthy 1 s after the boot: the VM runs, and its guest has not reached its OS's init yet", Judge(BootMode.Vm, services, settle: 0, deadline: 1));

        File.WriteAllText(_dir.File("guest-up"), "2\n");
        Assert.Null(Judge(BootMode.Vm, services, settle: 0, deadline: 5));
        var command = Judge(BootMode.Vm, services, settle: 0, deadline: 1, new UpgradeProbe { Command = "pidof httpd" });
        Assert.Equal("not healthy 1 s after the boot: probe command 'pidof httpd': a command probe runs in a jailed OS, and in mode vm the OS is a guest with its own kernel (probe its address with tcp or http)", command);
    }
}

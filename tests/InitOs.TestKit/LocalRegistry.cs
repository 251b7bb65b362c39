using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace InitOs.TestKit;

/// <summary>
/// Debian's docker-registry (Distribution 2.8) on 127.0.0.1 (or another local address), its storage in a scratch
/// directory: started for a test, killed and removed after. Optionally with TLS (a certificate
/// and key) and Basic authentication (an htpasswd file).
/// </summary>
public sealed class LocalRegistry : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _scratch;

    /// <param name="token">Token authentication instead: the token service's URL, the certificate its tokens are signed with, the service and issuer names.</param>
    public LocalRegistry(string? certificate = null, string? key = null, string? htpasswd = null, string host = "127.0.0.1", (string Realm, string Certificate, string Service, string Issuer)? token = null)
    {
        _scratch = new TempDirectory("initos-registry-");
        Host = host;
        Port = FreePort();
        Storage = _scratch.File("storage");
        var config = _scratch.File("config.yml");
        var tls = certificate is null ? "" : $"\n  tls:\n    certificate: {certificate}\n    key: {key}";
        var auth = htpasswd is not null ? $"auth:\n  htpasswd:\n    realm: initos-test\n    path: {htpasswd}\n"
            : token is { } t ? $"auth:\n  token:\n    realm: {t.Realm}\n    service: {t.Service}\n    issuer: {t.Issuer}\n    rootcertbundle: {t.Certificate}\n"
            : "";
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Storage}
            {auth}http:
              addr: {host}:{Port}{tls}
            """);
        var start = new ProcessStartInfo("docker-registry", ["serve", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForPort(Port, TimeSpan.FromSeconds(20), IPAddress.Parse(host));
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>Where the registry keeps blobs: docker/registry/v2/blobs/sha256/XX/HEX/data.</summary>
    public string Storage { get; }

    public string Address => $"{Host}:{Port}";

    public string BlobFile(string digest) => Path.Combine(Storage, "docker", "registry", "v2", "blobs", "sha256", digest[7..9], digest[7..], "data");

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _scratch.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void WaitForPort(int port, TimeSpan timeout, IPAddress? address = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(address ?? IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }
}

/// <summary>
/// A TCP proxy to a local port that cuts one connection once it has carried
/// <see cref="CutAfter"/> bytes towards the client: a download that breaks off mid-blob.
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private int _cutsLeft;

    public CuttingProxy(int target, long cutAfter, int cuts = 1)
    {
        _target = target;
        CutAfter = cutAfter;
        _cutsLeft = cuts;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    public long CutAfter { get; }

    /// <summary>Connections cut so far.</summary>
    public int Cuts { get; private set; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => Relay(client));
        }
    }

    private async Task Relay(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(IPAddress.Loopback, _target);
            var up = client.GetStream().CopyToAsync(server.GetStream());
            var down = CopyDown(server.GetStream(), client.GetStream());
            await Task.WhenAny(up, down);
        }
    }

    private async Task CopyDown(Stream from, Stream to)
    {
        var buffer = new byte[16384];
        long carried = 0;
        int n;
        while ((n = await from.ReadAsync(buffer)) > 0)
        {
            if (carried + n > CutAfter && Interlocked.Decrement(ref _cutsLeft) >= 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, (int)(CutAfter - carried)));
                Cuts++;
                return;
            }
            await to.WriteAsync(buffer.AsMemory(0, n));
            carried += n;
        }
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using InitOs.TestKit;

namespace InitOs.JailTests.Network;

/// <summary>
/// The admin door (`initos ssh-door`, what the sshd service runs) on the real kernel: open on
/// the interfaces it is given, closed to a jail on the bridge whichever host address the jail
/// dials, and bounded per client address.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class SshDoorTests : IDisposable
{
    private readonly string _bridge = "ibrd" + Guid.NewGuid().ToString("N")[..6];
    private readonly string _subnet = $"10.216.{Random.Shared.Next(1, 250)}.0/24";
    private readonly List<Process> _doors = [];

    public void Dispose()
    {
        foreach (var door in _doors)
        {
            door.Kill(entireProcessTree: true);
            door.WaitForExit();
            door.Dispose();
        }
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

    private static int FreePort()
    {
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts a door and waits for its "listening on" line for each interface.</summary>
    private int StartDoor(string listen, params string[] session)
    {
        int port = FreePort();
        var info = new ProcessStartInfo(RepoPaths.Require(RepoPaths.Box, "make box")) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["ssh-door", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--listen", listen, "--", .. session])
        {
            info.ArgumentList.Add(a);
        }
        var door = Process.Start(info)!;
        _doors.Add(door);
        var waiting = listen.Split(',').ToHashSet();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (waiting.Count > 0)
        {
            var read = door.StandardError.ReadLineAsync();
            Assert.True(read.Wait(deadline - DateTime.UtcNow) && read.Result is not null, $"the door did not listen on {string.Join(' ', waiting)}");
            waiting.RemoveWhere(name => read.Result!.Contains($"listening on {name} port {port}", StringComparison.Ordinal));
        }
        return port;
    }

    [Fact]
    public void A_jail_on_the_bridge_finds_the_door_closed_on_every_host_address_while_the_admin_interface_gets_in()
    {
        using var holder = new TestBundle();
        holder.WithShell("exec sleep 600");
        var holderId = JailCli.NewId("door-bridge");
        var created = JailCli.Run("create", "--bundle", holder.Save(), "--network", "bridge", "--bridge", _bridge, "--subnet", _subnet, holderId);
        try
        {
            Assert.True(created.Code == 0, created.ToString());
            int adminOnly = StartDoor("lo", "/bin/sh", "-c", "echo door-session");
            int onBridge = StartDoor(_bridge, "/bin/sh", "-c", "echo door-session");
            Assert.Equal("door-session\n", Talk(adminOnly, "127.0.0.1"));

            var gateway = _subnet.Replace(".0/24", ".1", StringComparison.Ordinal);
            using var client = new TestBundle();
            client.WithShell($"for a in {gateway} 127.0.0.1; do echo \"$a: $(nc -w 3 $a {adminOnly} </dev/null 2>&1 || echo refused)\"; done; echo \"bridge door: $(nc -w 3 {gateway} {onBridge} </dev/null)\"");
            var result = JailCli.Run("run", "--bundle", client.Save(), "--network", "bridge", "--bridge", _bridge, "--subnet", _subnet, JailCli.NewId("door-client"));

            Assert.True(result.Code == 0, result.ToString());
            // The control: a door told to listen on the bridge is reachable from the jail.
            Assert.Contains("bridge door: door-session", result.Out, StringComparison.Ordinal);
            Assert.DoesNotContain($"{gateway}: door-session", result.Out, StringComparison.Ordinal);
            Assert.Contains($"{gateway}: ", result.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1: door-session", result.Out, StringComparison.Ordinal);
        }
        finally
        {
            JailCli.Run("delete", "--force", holderId);
        }
    }

    [Fact]
    public void One_address_gets_four_sessions_at_once_and_a_slot_comes_back_when_one_ends()
    {
        int port = StartDoor("lo", "/bin/sh", "-c", "echo in; read line");
        var held = Enumerable.Range(0, 4).Select(_ => Open(port)).ToList();
        try
        {
            foreach (var (_, reader) in held)
            {
                Assert.Equal("in", reader.ReadLine());
            }
            Assert.Equal("", Talk(port, "127.0.0.1")); // the fifth: closed at once, no session
            held[0].Client.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string again;
            while ((again = Talk(port, "127.0.0.1")) != "in\n" && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
            Assert.Equal("in\n", again);
        }
        finally
        {
            held.ForEach(h => h.Client.Dispose());
        }
    }

    private static (TcpClient Client, StreamReader Reader) Open(int port)
    {
        var client = new TcpClient("127.0.0.1", port) { ReceiveTimeout = 10_000 };
        return (client, new StreamReader(client.GetStream(), Encoding.ASCII));
    }

    /// <summary>Everything the session says before it closes, with nothing sent (its stdin ends).</summary>
    private static string Talk(int port, string host)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(host, port);
        socket.Shutdown(SocketShutdown.Send);
        var said = new StringBuilder();
        var buffer = new byte[256];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                said.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Refused after accept: nothing was said.
        }
        return said.ToString();
    }
}

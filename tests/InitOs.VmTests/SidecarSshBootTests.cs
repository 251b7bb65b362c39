using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The admin door: PID 1 brings up the network by DHCP and supervises dropbear; an admin's
/// key logs in and every session lands in `initos admin`; passwords are refused; a bad request
/// changes nothing; `poweroff` over ssh ends the machine. The client is OpenSSH's ssh.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class SidecarSshBootTests : IDisposable
{
    private readonly BootImages _images;
    private readonly TempDirectory _keys = new("initos-ssh-keys-");

    public SidecarSshBootTests(BootImages images) => _images = images;

    public void Dispose() => _keys.Dispose();

    private string Key => _keys.File("admin");

    private string ViewerKey => _keys.File("viewer");

    private string OperatorKey => _keys.File("operator");

    private string Initramfs()
    {
        NewKey(Key);
        NewKey(ViewerKey);
        NewKey(OperatorKey);
        return _images.InitramfsWith("sidecar", GuestConfig.Pid1(GuestConfig.DhcpAndSidecar(Key + ".pub") + $$"""

            [[sidecar.admin]]
            key = "{{File.ReadAllText(ViewerKey + ".pub").Trim()}}"
            role = "viewer"

            [[sidecar.admin]]
            key = "{{File.ReadAllText(OperatorKey + ".pub").Trim()}}"
            role = "operator"

            [[service]]
            name = "ticker"
            command = ["/bin/sh", "-c", "while :; do /bin/busybox sleep 1; done"]
            """, GuestConfig.NetworkModules));
    }

    [Fact]
    public void An_admin_key_logs_in_to_initos_admin_passwords_are_refused_bad_requests_change_nothing_and_poweroff_works()
    {
        int port = FreePort();
        using var vm = new VmBoot(nameof(SidecarSshBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = Initramfs(),
            Append = "console=ttyS0 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
        });
        vm.Expect(@"network: eth0 10\.0\.2\.15/24");
        vm.Expect("service sshd: started");

        var status = Ssh(port, "status", retryUntilUp: true);
        Assert.True(status.Code == 0, status.ToString());
        Assert.Contains("uptime:", status.Out, StringComparison.Ordinal);
        Assert.Contains("mode:     initramfs", status.Out, StringComparison.Ordinal);
        Assert.Matches(@"boot phases \(start s, took ms\): early-mounts [\d.]+ [\d.]+, .*network [\d.]+ [\d.]+", status.Out);
        Assert.Contains("  /sys/fs/cgroup cgroup2 cgroup2", status.Out, StringComparison.Ordinal);
        Assert.Matches(@"sshd\s+running", status.Out);

        var json = Ssh(port, "services --json");
        Assert.True(json.Code == 0, json.ToString());
        using (var document = JsonDocument.Parse(json.Out))
        {
            Assert.Contains(document.RootElement.GetProperty("services").EnumerateArray(), s => s.GetProperty("name").GetString() == "sshd");
        }

        var restart = Ssh(port, "services restart ticker");
        Assert.True(restart.Code == 0, restart.ToString());
        Assert.Matches(@"restarted ticker: pid \d+ → \d+", restart.Out);
        Assert.Equal(2, Ssh(port, "services restart nosuch").Code);

        var logs = Ssh(port, "logs");
        Assert.True(logs.Code == 0, logs.ToString());
        Assert.Matches(@"\[\s*\d+\.\d{6}\] Linux version", logs.Out);
        Assert.Contains("initos: service sshd: started", logs.Out, StringComparison.Ordinal);

        var unknown = Ssh(port, "format disks");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("initos admin: unknown command 'format'", unknown.Err, StringComparison.Ordinal);
        var shell = Ssh(port, "status; cat /etc/passwd");
        Assert.Equal(2, shell.Code);
        Assert.Contains("is not a word an admin command takes", shell.Err, StringComparison.Ordinal);

        var stranger = _keys.File("stranger");
        NewKey(stranger);
        var wrongKey = Run("ssh", [.. Options(port), "-i", stranger, "root@127.0.0.1", "status"]);
        Assert.Equal(255, wrongKey.Code);
        Assert.Contains("Permission denied", wrongKey.Err, StringComparison.Ordinal);

        KillingSshdBringsItBackAndLeavesPid1Alone(port, vm);
        EachKeyActsInItsRoleAndEverySessionIsOnRecord(port);

        var password = Run("ssh", [.. Options(port), "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive", "root@127.0.0.1", "status"]);
        Assert.NotEqual(0, password.Code);
        Assert.Contains("Permission denied", password.Err, StringComparison.Ordinal);

        AdminClientPinsTheHostKeyAndAFleetRunTabulates(port);

        Ssh(port, "poweroff");
        vm.Expect("shutdown: powering off");
        vm.ExpectExit();
    }

    /// <summary>SIGKILL to the sshd PID 1 supervises, as a crash: back after the backoff; PID 1 and its other service carry on.</summary>
    private void KillingSshdBringsItBackAndLeavesPid1Alone(int port, VmBoot vm)
    {
        var ticker = Ssh(port, "services");
        var tickerRow = Assert.Single(ticker.Out.Split('\n'), l => l.StartsWith("ticker", StringComparison.Ordinal));
        var kill = Ssh(port, "services kill sshd");
        Assert.True(kill.Code == 0, kill.ToString());
        Assert.Matches(@"killed and restarted sshd: pid \d+ → \d+", kill.Out);
        vm.Expect(@"service sshd: pid \d+ killed by signal 9; restart in \d+ ms");
        var after = Ssh(port, "services", retryUntilUp: true);
        Assert.True(after.Code == 0, after.ToString());
        Assert.Matches(@"sshd\s+running", after.Out);
        Assert.Contains(tickerRow, after.Out, StringComparison.Ordinal);
    }

    /// <summary>Three keys, three roles: a refusal names the role it needs; `logs` holds each session's fingerprint and command.</summary>
    private void EachKeyActsInItsRoleAndEverySessionIsOnRecord(int port)
    {
        var viewerStatus = Ssh(port, "status", key: ViewerKey);
        Assert.True(viewerStatus.Code == 0, viewerStatus.ToString());
        var viewerRestart = Ssh(port, "services restart ticker", key: ViewerKey);
        Assert.Equal(2, viewerRestart.Code);
        var viewerPrint = Fingerprint(ViewerKey);
        Assert.Equal($"initos admin: services restart needs the operator role; this key ({viewerPrint}) is viewer\n", viewerRestart.Err);
        Assert.Contains("needs the operator role", Ssh(port, "reboot", key: ViewerKey).Err, StringComparison.Ordinal);

        var operatorRestart = Ssh(port, "services restart ticker", key: OperatorKey);
        Assert.True(operatorRestart.Code == 0, operatorRestart.ToString());
        var operatorDebug = Ssh(port, "jail debug nosuch", key: OperatorKey);
        Assert.Equal(2, operatorDebug.Code);
        Assert.Contains("jail debug needs the admin role", operatorDebug.Err, StringComparison.Ordinal);

        // The admin's key gets past the role check: what stops it is that there is no such jail.
        var adminDebug = Ssh(port, "jail debug nosuch");
        Assert.Equal(2, adminDebug.Code);
        Assert.DoesNotContain("role", adminDebug.Err, StringComparison.Ordinal);

        var logs = Ssh(port, "logs", key: ViewerKey);
        Assert.Contains($"initos admin: key {viewerPrint} (viewer) from 10.0.2.2: services restart ticker: refused: needs operator", logs.Out, StringComparison.Ordinal);
        Assert.Contains($"initos admin: key {Fingerprint(OperatorKey)} (operator) from 10.0.2.2: services restart ticker: run", logs.Out, StringComparison.Ordinal);
        Assert.Contains($"initos admin: key {Fingerprint(Key)} (admin) from 10.0.2.2: jail debug nosuch: run", logs.Out, StringComparison.Ordinal);
    }

    /// <summary>The fingerprint as OpenSSH prints it ("256 SHA256:… comment (ED25519)").</summary>
    private static string Fingerprint(string key) => Tool.Run("ssh-keygen", "-lf", key + ".pub").Split(' ')[1];

    /// <summary>`initos ssh` / `initos fleet`'s library (SSH.NET): pinning on first use, refusal on change, a fleet table.</summary>
    private void AdminClientPinsTheHostKeyAndAFleetRunTabulates(int port)
    {
        var knownHosts = new KnownHosts(_keys.File("known_hosts"));
        var client = new AdminClient(Key, knownHosts, TimeSpan.FromSeconds(30));
        var target = new AdminTarget("127.0.0.1", port);
        var first = client.Run(target, "status --json");
        Assert.True(first.Succeeded, $"{first.ExitCode}: {first.Error}");
        using (var document = JsonDocument.Parse(first.Output))
        {
            Assert.True(document.RootElement.GetProperty("uptime_seconds").GetDouble() > 0);
        }
        var pinned = Assert.Single(File.ReadAllLines(knownHosts.Path));
        Assert.StartsWith($"127.0.0.1:{port} ssh-ed25519 SHA256:", pinned, StringComparison.Ordinal);
        Assert.True(client.Run(target, "status").Succeeded, "a pinned key that did not change is trusted");

        File.WriteAllText(knownHosts.Path, pinned[..pinned.LastIndexOf(':')] + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
        var changed = client.Run(target, "status");
        Assert.Equal(AdminClient.ConnectionFailed, changed.ExitCode);
        Assert.Contains($"the host key of 127.0.0.1:{port} changed", changed.Error, StringComparison.Ordinal);
        File.Delete(knownHosts.Path);

        var hosts = _keys.File("hosts");
        File.WriteAllText(hosts, $"# two names for the guest, and a port where nothing listens\n127.0.0.1:{port}\nroot@localhost:{port}\n127.0.0.1:1\n");
        var results = Fleet.Run(Fleet.ReadHosts(hosts), 2, t => client.Run(t, "services"));
        Assert.Equal([true, true, false], results.Select(r => r.Succeeded));
        Assert.Contains("2 of 3 hosts succeeded", Fleet.Table(results), StringComparison.Ordinal);
    }

    private sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    private Result Ssh(int port, string command, bool retryUntilUp = false, string? key = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var result = Run("ssh", [.. Options(port), "-i", key ?? Key, "root@127.0.0.1", command]);
            // 255: ssh itself failed (sshd not listening yet, or its first host key still being made).
            if (!retryUntilUp || result.Code != 255 || DateTime.UtcNow > deadline)
            {
                return result;
            }
            Thread.Sleep(500);
        }
    }

    private static string[] Options(int port) =>
        ["-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR"];

    private static Result Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var err = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "ssh did not end");
        return new Result(process.ExitCode, output, err.Result);
    }

    /// <summary>An admin's ed25519 key pair (KEY and KEY.pub), as ssh-keygen makes it.</summary>
    internal static void NewKey(string path) => Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin@test", "-f", path);

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The admin door after switch_root: the real OS's init is PID 1, and `@initos sidecar` still answers.</summary>
[Collection(BootCollection.Name)]
public sealed class SidecarSwitchRootBootTests : IDisposable
{
    private readonly BootImages _images;
    private readonly TempDirectory _keys = new("initos-ssh-keys-");

    public SidecarSwitchRootBootTests(BootImages images) => _images = images;

    public void Dispose() => _keys.Dispose();

    [Fact]
    public void After_the_os_took_pid_1_an_admin_still_logs_in_and_status_works()
    {
        var key = _keys.File("admin");
        SidecarSshBootTests.NewKey(key);
        var initramfs = _images.InitramfsWith("sidecar-switch-root", File.ReadAllText(RepoPaths.DefaultConfig) + "\n" + GuestConfig.DhcpAndSidecar(key + ".pub"));
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot(nameof(SidecarSwitchRootBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [_images.Rootfs],
            Append = "console=ttyS0 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
        });
        vm.Expect(@"sidecar: started from /run/initramfs as pid \d+");
        vm.Expect("INITOS-OS-UP");

        var client = new AdminClient(key, new KnownHosts(_keys.File("known_hosts")), TimeSpan.FromSeconds(30));
        var status = AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", port), "status");
        Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
        // The hostname is the OS's own: the sidecar answers from inside the machine the OS now runs.
        Assert.Contains("hostname: initos-default", status.Output, StringComparison.Ordinal);
        Assert.Contains("mode:     switch_root", status.Output, StringComparison.Ordinal);
        Assert.Matches(@"switch-root [\d.]+ [\d.]+", status.Output);
        Assert.Matches(@"disks:\s+vda \d+ MiB", status.Output);
        // The mounts are the OS's (its PID 1's view), not the sidecar's chroot.
        Assert.Matches(@"(?m)^  / ext4 /dev/vda", status.Output);
        Assert.Matches(@"sshd\s+running", status.Output);

        // The sidecar supervises its sshd as PID 1 did: killed, it is back after the backoff.
        var kill = client.Run(new AdminTarget("127.0.0.1", port), "services kill sshd");
        Assert.True(kill.Succeeded, $"{kill.ExitCode}: {kill.Error}");
        Assert.Matches(@"killed and restarted sshd: pid \d+ → \d+", kill.Output);
        vm.Expect(@"service sshd: pid \d+ killed by signal 9; restart in \d+ ms");
        // The new sshd may not listen yet when its restart is logged.
        Assert.True(AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", port), "status").Succeeded);

        // Killing the sidecar itself does not disturb the OS's PID 1: from the OS's console shell,
        // SIGKILL every initos process (the sidecar), then PID 1 still answers.
        vm.Session.Send("\n");
        vm.Session.Send("kill -9 $(pidof initos); sleep 1; echo SIDECAR-LEFT=$(pidof initos | wc -w) PID1=$(readlink /proc/1/exe)\n");
        vm.Expect(@"SIDECAR-LEFT=0 PID1=/bin/busybox");
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
    }
}

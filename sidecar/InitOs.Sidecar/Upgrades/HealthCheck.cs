using System.Globalization;
using System.Net;
using InitOs.Sys;
using System.Text;
using System.Text.Json;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Whether a trial boot is healthy: the OS has been up, without a restart, for settle_seconds
/// (switch_root: PID 1 is the OS's init; jail, vm and initramfs modes: every service PID 1
/// supervises is running; vm: and the guest of QEMU's current start reached its OS's init, as
/// PID 1 saw on its console), and every [[upgrade.probe]] passes, all before deadline_seconds
/// of uptime. Checked once a second.
/// </summary>
/// <param name="uptime">Seconds since the boot (the kernel's monotonic clock); a test passes its own, a jailed OS's trial the time since its restart.</param>
/// <param name="image">The OS image the jail must be running (NAME@V, as PID 1 writes it to <see cref="OsImageStore.RunningFile"/>); null: any.</param>
/// <param name="waiting">Told why the verdict is not good yet, every <see cref="ReportEvery"/> (the judge logs it: a trial that takes long says why).</param>
/// <param name="guestUpFile">Mode vm: where PID 1 marks the start whose guest reached its OS (<see cref="OsImageStore.GuestUpFile"/>).</param>
public sealed class HealthCheck(InitosConfig settings, string statusFile = StatusFile.DefaultPath, Func<double>? uptime = null, string? image = null, Action<string>? waiting = null, string guestUpFile = OsImageStore.GuestUpFile)
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(30);

    private readonly Func<double> _uptime = uptime ?? (() => BootLog.Uptime);

    /// <summary>What the deadline counts from: the boot, or (a clock of the caller's) the OS's restart.</summary>
    private readonly string _since = image is not null && uptime is not null ? "OS's restart" : "boot";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The jailed OS's jail (InitOs.Os's OsJailSpec.Id): where command probes run.</summary>
    private const string OsJailId = "os";

    /// <summary>Null when healthy in time; otherwise why not, as of the deadline.</summary>
    public string? Wait()
    {
        var upgrade = settings.Upgrade;
        double? upSince = null;
        string? lastStarts = null;
        string problem = "not judged yet";
        var sinceReport = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var (up, starts, why) = OsUp();
            if (!up || starts != lastStarts)
            {
                upSince = up ? _uptime() : null;
                lastStarts = starts;
            }
            if (!up)
            {
                problem = why;
            }
            else if (_uptime() - upSince < upgrade.SettleSeconds)
            {
                problem = string.Create(CultureInfo.InvariantCulture, $"the OS had been up {_uptime() - upSince:F0} s of the {upgrade.SettleSeconds} s it must stay up");
            }
            else if (FailedProbe() is { } failed)
            {
                problem = failed;
            }
            else
            {
                return null;
            }
            if (_uptime() >= upgrade.DeadlineSeconds)
            {
                return string.Create(CultureInfo.InvariantCulture, $"not healthy {upgrade.DeadlineSeconds} s after the {_since}: {problem}");
            }
            if (waiting is not null && sinceReport.Elapsed >= ReportEvery)
            {
                waiting(string.Create(CultureInfo.InvariantCulture, $"not good yet at {_uptime():F0} s: {problem}"));
                sinceReport.Restart();
            }
            Thread.Sleep(Interval);
        }
    }

    /// <summary>Whether the OS is up; a fingerprint of its starts (a restart resets the settle time); why not.</summary>
    private (bool Up, string Starts, string Why) OsUp()
    {
        if (settings.Mode == BootMode.SwitchRoot)
        {
            var init = ReadLink("/proc/1/exe");
            return init is null || init.Contains("initos", StringComparison.Ordinal)
                ? (false, "", $"PID 1 is not the OS's init ({init ?? "unreadable"})")
                : (true, init, "");
        }
        if (!File.Exists(statusFile))
        {
            return (false, "", "PID 1 supervises no services yet");
        }
        if (image is not null && OsImageStore.Running() is var running && running != image)
        {
            return (false, "", $"the jail runs {running ?? "no image"}, not {image}");
        }
        using var document = JsonDocument.Parse(StatusFile.Read(statusFile));
        var starts = new StringBuilder();
        foreach (var service in document.RootElement.GetProperty("services").EnumerateArray())
        {
            var name = service.GetProperty("name").GetString();
            if (name == UpgradeJudge.ServiceName)
            {
                continue;
            }
            var state = service.GetProperty("state").GetString();
            // A one-shot service that ran and exited 0 (restart = "never") is as it should be.
            bool finished = state == "stopped" && service.GetProperty("last_exit").GetString() is { } exit && exit.EndsWith(" exited 0", StringComparison.Ordinal);
            if (state != "running" && !finished)
            {
                return (false, "", $"service {name} is {state} (last exit: {service.GetProperty("last_exit").GetString()})");
            }
            starts.Append(CultureInfo.InvariantCulture, $"{name}:{service.GetProperty("starts").GetInt32()} ");
        }
        if (settings.Mode == BootMode.Vm)
        {
            // PID 1 removes the mark at each start of QEMU: one here is this start's guest.
            var guest = File.Exists(guestUpFile) ? File.ReadAllText(guestUpFile).Trim() : null;
            if (guest is null)
            {
                return (false, "", "the VM runs, and its guest has not reached its OS's init yet");
            }
            starts.Append(CultureInfo.InvariantCulture, $"guest:{guest}");
        }
        return (true, starts.ToString(), "");
    }

    private string? FailedProbe()
    {
        foreach (var probe in settings.Upgrade.Probes)
        {
            var failure = probe.Tcp is { } tcp ? Tcp(tcp)
                : probe.Http is { } http ? Http(http)
                : settings.Mode == BootMode.Vm ? "a command probe runs in a jailed OS, and in mode vm the OS is a guest with its own kernel (probe its address with tcp or http)"
                : Admin.JailDebug.Probe(OsJailId, probe.Command!, CommandTimeout);
            if (failure is not null)
            {
                return $"probe {probe.Describe()}: {failure}";
            }
        }
        return null;
    }

    private static string? Tcp(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        try
        {
            using var connection = Connect(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
            return null;
        }
        catch (SysException e)
        {
            return e.Message;
        }
    }

    /// <summary>HTTP/1.0 GET by hand (the box carries no HTTP stack for one request); 200-399 passes.</summary>
    private static string? Http(string url)
    {
        var target = HttpProbeUrl.TryParse(url) ?? throw new InvalidOperationException($"{url}: not a probe URL (the config loader checks them)");
        try
        {
            using var connection = TcpConnection.Connect(target.Address, target.Port, ProbeTimeout);
            connection.Send(Encoding.ASCII.GetBytes($"GET {target.Path} HTTP/1.0\r\nHost: {target.Authority}\r\nConnection: close\r\n\r\n"));
            var buffer = new byte[64];
            int n = connection.Receive(buffer, ProbeTimeout);
            var status = Encoding.ASCII.GetString(buffer, 0, n).Split(' ');
            return status.Length > 1 && int.TryParse(status[1], CultureInfo.InvariantCulture, out int code)
                ? code is >= 200 and < 400 ? null : $"HTTP status {code}"
                : "not an HTTP answer";
        }
        catch (SysException e)
        {
            return e.Message;
        }
    }

    /// <summary>Probes name IPv4 addresses (the config checks it): no name lookup in a judge that must not hang.</summary>
    private static TcpConnection Connect(string host, int port) => TcpConnection.Connect(IPAddress.Parse(host), port, ProbeTimeout);

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

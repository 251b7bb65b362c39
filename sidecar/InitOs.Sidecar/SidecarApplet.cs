using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Sidecar.Ssh;
using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Sidecar;

/// <summary>
/// `@initos sidecar --port N`: the admin door after switch_root. It is started by PID 1 from
/// /run/initramfs just before the hand-off. It chroots there, so the deleted initramfs does
/// not matter, and supervises dropbear like PID 1 did, reaping its own children. Its log goes
/// to the kernel log, and its services' status to the same file `initos admin` reads.
/// </summary>
public static class SidecarApplet
{
    public static int Run(string[] args)
    {
        var (portText, listen) = args switch
        {
            ["--port", var p] => (p, ""),
            ["--port", var p, "--listen", var l] => (p, l),
            _ => ("", ""),
        };
        if (!int.TryParse(portText, System.Globalization.CultureInfo.InvariantCulture, out int port))
        {
            Console.Error.WriteLine("usage: @initos sidecar --port N [--listen IF,IF...] (PID 1 starts it before switch_root, or systemd after it)");
            return 2;
        }
        Processes.ChangeRoot(SidecarStaging.Root);
        Processes.ChangeDirectory("/");
        File.WriteAllText(SidecarStaging.ReadyMarker, Processes.CurrentPid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var log = BootLog.Instance;
        log.AttachKmsg();
        var reaper = new Reaper();
        var requests = new ShutdownRequests();
        // A stop lets admin sessions in flight answer first (SessionDrain), off the signal thread, which also reaps.
        new SignalLoop(reaper, [Signal.Term, Signal.Int], signal => Task.Run(() =>
        {
            SessionDrain.Wait(BootLog.Instance, Processes.CurrentPid);
            requests.Post(signal);
        })).Start();
        var sidecar = new SidecarConfig { Ssh = true, Port = port, HostKeyDirectory = SshSidecar.DropbearKeyDirectory, Listen = listen.Split(',', StringSplitOptions.RemoveEmptyEntries) };
        var config = File.Exists(InitosConfig.DefaultPath) ? ConfigLoader.Load(InitosConfig.DefaultPath) : new InitosConfig();
        var services = Upgrades.UpgradeJudgeService.With([SshSidecar.Service(sidecar, syslog: null)], config.Upgrade, config.Os);
        var supervisor = new Supervisor(services, reaper, log);
        requests.Attach(supervisor);
        log.Info($"sidecar: supervising sshd on port {port} from {SidecarStaging.Root}, pid {Processes.CurrentPid}");
        supervisor.RunUntilShutdown();
        log.Info("sidecar: stopping");
        return 0;
    }
}

using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Machine;
using InitOs.Init.Recovery;
using InitOs.Sidecar;
using InitOs.Sidecar.Ssh;
using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// PID 1. Starts the one reaper, runs the boot sequence, then either hands off (switch_root)
/// or stays and supervises services until a shutdown request. Whatever goes wrong ends in the
/// failure policy; the method never returns, because PID 1 exiting panics the kernel.
/// </summary>
internal static class InitApplet
{
    private static readonly int[] ShutdownRequestSignals = [Signal.Term, Signal.Int, Signal.Usr1, Signal.Usr2, .. OsRestartSignals.All];

    public static int Run(string[] args)
    {
        if (Processes.CurrentPid != 1)
        {
            Console.Error.WriteLine("initos init: must run as PID 1 (the kernel's /init); refusing to take over this machine");
            return 1;
        }
        var log = BootLog.Instance;
        var reaper = new Reaper();
        var requests = new ShutdownRequests();
        new SignalLoop(reaper, ShutdownRequestSignals, requests.Post).Start();
        var context = new BootContext(log, args) { Reaper = reaper };
        var system = new LinuxSystem();
        var recovery = new ConsoleRecovery(log, reaper, () => FirmwareTasks.SecureBootEnforced(system), () => context.Settings?.Recovery.PasswordHash);
        try
        {
            log.Info($"InitOS {typeof(InitApplet).Assembly.GetName().Version} starting as PID 1");
            TurnCtrlAltDelIntoSignal(log);
            var os = new Os.OsJail(system);
            var vm = new Os.OsVm();
            var extensions = new BootExtensions
            {
                Sidecar = SidecarBoot.Phase,
                Upgrade = Sidecar.Upgrades.UpgradeBoot.Phase,
                StartSidecarBeforeHandoff = SidecarBoot.StartBeforeHandoff,
                Os = os.Phase,
                Vm = vm.Phase,
            };
            new BootRunner(recovery).Run(BootSequence.SwitchRoot(system, extensions), context);
            WriteBootRecord(context, log);
            if (context.Handoff is { } handoff)
            {
                handoff();
            }
            else
            {
                var settings = context.RequireSettings();
                var services = Sidecar.Upgrades.UpgradeJudgeService.With(SshSidecar.WithSshd([.. settings.Services.Select(ServiceSpec.From)], settings.Sidecar), settings.Upgrade, settings.Os);
                Supervise(context, BootSequence.InJail(context) ? [.. services, os.Service()] : BootSequence.InVm(context) ? [.. services, vm.Service()] : services, reaper, requests, log);
            }
        }
        catch (Exception e)
        {
            // Reached only if the hand-off or the shutdown failed: the initramfs may be gone by now.
            TryFail(recovery, context.Policy, $"{e.GetType().Name}: {e.Message}");
        }
        recovery.WaitForever("nothing left to run");
        return 0;
    }

    /// <summary>Initramfs and jail modes: services (the jailed OS among them) until a shutdown request, then the shutdown itself.</summary>
    private static void Supervise(BootContext context, IReadOnlyList<ServiceSpec> services, Reaper reaper, ShutdownRequests requests, BootLog log)
    {
        var settings = context.RequireSettings();
        var supervisor = new Supervisor(services, reaper, log);
        requests.Attach(supervisor);
        log.Info($"supervising {services.Count} services; reboot, poweroff and halt with `initos reboot|poweroff|halt` or SIGTERM/SIGUSR2/SIGUSR1");
        var kind = supervisor.RunUntilShutdown();
        new Shutdown(log, reaper).Run(kind, settings.ShutdownGrace, supervisor.ShutdownReason);
    }

    private static void WriteBootRecord(BootContext context, BootLog log)
    {
        try
        {
            BootRecord.Write(context, context.Handoff is null ? "/" : context.NewRoot, SidecarStaging.Root);
        }
        catch (IOException e)
        {
            log.Warn($"cannot write {BootRecord.Path}: {e.Message}");
        }
    }

    /// <summary>reboot(CAD_OFF): Ctrl-Alt-Del then sends SIGINT to PID 1 instead of an immediate reboot.</summary>
    private static void TurnCtrlAltDelIntoSignal(BootLog log)
    {
        try
        {
            Kernel.Reboot(RebootCommand.CtrlAltDelOff);
        }
        catch (SysException e)
        {
            log.Warn($"cannot route Ctrl-Alt-Del to PID 1: {e.Message}");
        }
    }

    private static void TryFail(ConsoleRecovery recovery, FailurePolicy policy, string reason)
    {
        try
        {
            recovery.Fail(policy, reason);
        }
        catch (Exception e)
        {
            BootLog.Instance.Error($"failure policy failed: {e.Message}");
        }
    }
}

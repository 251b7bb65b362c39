using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Recovery;
using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// PID 1. Runs the boot sequence and hands off; whatever goes wrong ends in the failure
/// policy, and the method never returns, because PID 1 exiting panics the kernel.
/// </summary>
internal static class InitApplet
{
    public static int Run(string[] args)
    {
        if (Processes.CurrentPid != 1)
        {
            Console.Error.WriteLine("initos init: must run as PID 1 (the kernel's /init); refusing to take over this machine");
            return 1;
        }
        var log = BootLog.Instance;
        var recovery = new ConsoleRecovery(log);
        var context = new BootContext(log, args);
        try
        {
            log.Info($"InitOS {typeof(InitApplet).Assembly.GetName().Version} starting as PID 1");
            new BootRunner(recovery).Run(BootSequence.SwitchRoot(new LinuxSystem()), context);
            context.Handoff?.Invoke();
            recovery.Fail(context.Policy, "the boot sequence ended without a hand-off");
        }
        catch (Exception e)
        {
            // Reached only if the hand-off itself failed: the initramfs may be gone by now.
            TryFail(recovery, context.Policy, $"hand-off failed: {e.Message}");
        }
        recovery.WaitForever("nothing left to run");
        return 0;
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

using System.Diagnostics;
using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// The end of a machine: TERM to every process, a grace period, KILL, unmount in reverse
/// order (read-only remount, then lazy detach, only when a plain unmount fails), sync,
/// reboot(2). Every step is logged, so a shutdown log shows what happened.
/// </summary>
public sealed class Shutdown
{
    private static readonly HashSet<string> KeptMounts = ["/", "/proc", "/sys", "/dev", "/dev/pts", "/run"];
    private readonly BootLog _log;
    private readonly Reaper _reaper;

    public Shutdown(BootLog log, Reaper reaper)
    {
        _log = log;
        _reaper = reaper;
    }

    public void Run(ShutdownKind kind, TimeSpan grace, string reason)
    {
        _log.Info($"shutdown: {kind.ToString().ToLowerInvariant()} ({reason})");
        StopEverything(grace);
        UnmountAll();
        Files.Sync();
        _log.Info("shutdown: sync done");
        _log.Info($"shutdown: {kind switch { ShutdownKind.Reboot => "rebooting", ShutdownKind.Halt => "halting", _ => "powering off" }}");
        _log.DrainConsoles(TimeSpan.FromSeconds(2));
        try
        {
            Kernel.Reboot(ShutdownSignals.Command(kind));
        }
        catch (SysException e)
        {
            _log.Error($"shutdown: reboot(2) failed: {e.Message}");
        }
    }

    /// <summary>kill(-1) reaches every process but PID 1; waits for the children to go, then insists.</summary>
    private void StopEverything(TimeSpan grace)
    {
        Processes.Signal(-1, Signal.Term);
        Processes.Signal(-1, Signal.Cont);
        if (WaitForNoChildren(grace))
        {
            _log.Info("shutdown: all processes ended after SIGTERM");
            return;
        }
        _log.Warn($"shutdown: processes still running after {grace.TotalSeconds:F0} s; sending SIGKILL");
        Processes.Signal(-1, Signal.Kill);
        WaitForNoChildren(TimeSpan.FromSeconds(5));
    }

    private bool WaitForNoChildren(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            _reaper.ReapAvailable();
            if (!Processes.HasChildren())
            {
                return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Deepest mounts first (reverse mount order), keeping the API filesystems and the root.</summary>
    private void UnmountAll()
    {
        var mounts = MountTable.Read().Select(m => m.MountPoint).Reverse().Where(m => !KeptMounts.Contains(m)).ToList();
        foreach (var mountPoint in mounts)
        {
            _log.Info($"shutdown: {Unmount(mountPoint)}");
        }
    }

    private static string Unmount(string mountPoint)
    {
        try
        {
            Mounts.Unmount(mountPoint);
            return $"unmounted {mountPoint}";
        }
        catch (SysException first)
        {
            try
            {
                Mounts.Mount(null, mountPoint, null, MountFlags.Remount | MountFlags.ReadOnly, null);
                Mounts.Unmount(mountPoint, UnmountFlags.Detach);
                return $"{mountPoint} busy ({first.Errno}); remounted read-only and detached";
            }
            catch (SysException)
            {
                Mounts.Unmount(mountPoint, UnmountFlags.Detach);
                return $"{mountPoint} busy ({first.Errno}); detached lazily";
            }
        }
    }
}

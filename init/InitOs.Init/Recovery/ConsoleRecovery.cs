using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Recovery;

/// <summary>
/// The failure policy on a real machine: an emergency shell on the console, or a
/// synced reboot/poweroff. When nothing else is possible it waits forever, reaping —
/// PID 1 must never exit, because the kernel panics when it does.
/// </summary>
public sealed class ConsoleRecovery : IRecovery
{
    private static readonly string[] ShellEnvironment = ["HOME=/", "TERM=linux", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "PS1=(initos emergency) \\w # "];
    private readonly BootLog _log;
    private readonly Supervision.Reaper _reaper;

    public ConsoleRecovery(BootLog log, Supervision.Reaper reaper)
    {
        _log = log;
        _reaper = reaper;
    }

    public void Fail(FailurePolicy policy, string reason)
    {
        _log.Error($"boot failed: {reason}");
        switch (policy)
        {
            case FailurePolicy.Shell:
                if (!RunShell("emergency shell: fix the problem, then exit the shell to retry"))
                {
                    WaitForever("no shell in the initramfs");
                }
                break;
            case FailurePolicy.Reboot:
                Leave(RebootCommand.Restart, "rebooting");
                break;
            case FailurePolicy.PowerOff:
                Leave(RebootCommand.PowerOff, "powering off");
                break;
        }
    }

    public void Break(string reason)
    {
        _log.Info(reason);
        if (!RunShell("break: exit the shell to continue the boot"))
        {
            _log.Warn("no shell in the initramfs; continuing the boot");
        }
    }

    /// <summary>Runs a shell on the console and waits for it; false when the initramfs has none.</summary>
    private bool RunShell(string banner)
    {
        var (path, argv) = FindShell();
        if (path is null)
        {
            return false;
        }
        _log.Info(banner);
        try
        {
            var exit = _reaper.Run(() => Processes.Spawn(path, argv, ShellEnvironment, "/dev/console", newSession: true));
            _log.Info($"emergency shell ended ({exit})");
            return true;
        }
        catch (SysException e)
        {
            _log.Error($"cannot start the emergency shell: {e.Message}");
            return false;
        }
    }

    /// <summary>busybox's cttyhack gives the shell a controlling terminal, so Ctrl-C works on the console.</summary>
    private static (string? Path, string[] Argv) FindShell()
    {
        if (File.Exists("/bin/busybox"))
        {
            return ("/bin/busybox", ["cttyhack", "/bin/sh"]);
        }
        return File.Exists("/bin/sh") ? ("/bin/sh", ["/bin/sh"]) : (null, []);
    }

    private void Leave(RebootCommand command, string what)
    {
        _log.Info($"{what} (failure policy)");
        Files.Sync();
        try
        {
            Kernel.Reboot(command);
        }
        catch (SysException e)
        {
            _log.Error($"{what} failed: {e.Message}");
        }
        WaitForever($"{what} did not happen");
    }

    /// <summary>The last resort: stay alive; the signal thread goes on reaping.</summary>
    public void WaitForever(string why)
    {
        _log.Error($"{why}; PID 1 stays up and only reaps children now");
        Thread.Sleep(Timeout.Infinite);
    }
}

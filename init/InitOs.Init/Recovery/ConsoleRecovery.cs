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
    private const int PasswordTries = 3;
    private readonly BootLog _log;
    private readonly Supervision.Reaper _reaper;
    private readonly Func<bool> _secureBoot;
    private readonly Func<string?> _passwordHash;

    /// <param name="secureBoot">Whether the machine booted under Secure Boot (asked when a shell is due).</param>
    /// <param name="passwordHash">[recovery] password_hash, once the settings are read (null before, or when unset).</param>
    public ConsoleRecovery(BootLog log, Supervision.Reaper reaper, Func<bool> secureBoot, Func<string?> passwordHash)
    {
        _log = log;
        _reaper = reaper;
        _secureBoot = secureBoot;
        _passwordHash = passwordHash;
    }

    public void Fail(FailurePolicy policy, string reason)
    {
        _log.Error($"boot failed: {reason}");
        if (policy == FailurePolicy.Shell && !ShellAllowed("the emergency shell"))
        {
            policy = FailurePolicy.Reboot;
        }
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
        if (!ShellAllowed("initos.break"))
        {
            _log.Warn("initos.break: no shell; the boot goes on");
            return;
        }
        if (!RunShell("break: exit the shell to continue the boot"))
        {
            _log.Warn("no shell in the initramfs; continuing the boot");
        }
    }

    /// <summary>
    /// <see cref="ShellGuard"/>'s rule: open without Secure Boot; under it, only for the
    /// recovery password (a few tries), and never when there is none. Says why when it refuses.
    /// </summary>
    private bool ShellAllowed(string what)
    {
        bool secureBoot;
        try
        {
            secureBoot = _secureBoot();
        }
        catch (Exception e)
        {
            // Not knowing is treated as Secure Boot: a free root shell is the one thing not to give by mistake.
            _log.Warn($"cannot tell whether Secure Boot is on ({e.Message}); taking it as on");
            secureBoot = true;
        }
        var hash = _passwordHash();
        switch (ShellGuard.Decide(secureBoot, hash))
        {
            case ShellAccess.Open:
                return true;
            case ShellAccess.Refused:
                _log.Error($"{what} refused: the machine booted under Secure Boot and [recovery] password_hash is not set; following on_failure = \"reboot\" instead");
                return false;
            default:
                return PasswordGiven(what, hash!);
        }
    }

    private bool PasswordGiven(string what, string hash)
    {
        for (int attempt = 1; attempt <= PasswordTries; attempt++)
        {
            string? answer;
            try
            {
                answer = ConsoleSecret.Ask("/dev/console", $"Secure Boot is on: give the recovery password for {what} (Control-D to give up): ");
                if (answer is not null && CryptPassword.Matches(answer, hash))
                {
                    _log.Info($"recovery password accepted for {what}");
                    return true;
                }
            }
            catch (Exception e) when (e is SysException or InvalidOperationException or IOException)
            {
                _log.Error($"cannot ask for the recovery password: {e.Message}");
                return false;
            }
            if (answer is null)
            {
                _log.Warn($"no recovery password given; no {what}");
                return false;
            }
            _log.Warn($"wrong recovery password ({attempt} of {PasswordTries})");
            Thread.Sleep(TimeSpan.FromSeconds(2));
        }
        _log.Error($"wrong recovery password {PasswordTries} times; no {what}");
        return false;
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

using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Recovery;

/// <summary>
/// The failure policy on a real machine: an emergency shell on the console a person is at, or a
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
    private readonly Func<IReadOnlyList<ConsoleDevice>> _consoles;

    /// <param name="secureBoot">Whether the machine booted under Secure Boot (asked when a shell is due).</param>
    /// <param name="passwordHash">[recovery] password_hash, once the settings are read (null before, or when unset).</param>
    /// <param name="consoles">The consoles a person may be at (default: the kernel's active ones).</param>
    public ConsoleRecovery(BootLog log, Supervision.Reaper reaper, Func<bool> secureBoot, Func<string?> passwordHash, Func<IReadOnlyList<ConsoleDevice>>? consoles = null)
    {
        _consoles = consoles ?? (() => ActiveConsoles.Read());
        _log = log;
        _reaper = reaper;
        _secureBoot = secureBoot;
        _passwordHash = passwordHash;
    }

    public void Fail(FailurePolicy policy, string reason)
    {
        _log.Error($"boot failed: {reason}");
        string? terminal = null;
        if (policy == FailurePolicy.Shell && (terminal = ShellTerminal("the emergency shell")) is null)
        {
            policy = FailurePolicy.Reboot;
        }
        switch (policy)
        {
            case FailurePolicy.Shell:
                if (!RunShell("emergency shell: fix the problem, then exit the shell to retry", terminal!))
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
        var terminal = ShellTerminal("initos.break");
        if (terminal is null)
        {
            _log.Warn("initos.break: no shell; the boot goes on");
            return;
        }
        if (!RunShell("break: exit the shell to continue the boot", terminal))
        {
            _log.Warn("no shell in the initramfs; continuing the boot");
        }
    }

    /// <summary>
    /// The terminal the shell goes to, or null when there is to be none. <see cref="ShellGuard"/>'s
    /// rule: open without Secure Boot; under it, only for the recovery password (a few tries, on
    /// the console the person chose), and never when there is none. Says why when it refuses.
    /// </summary>
    private string? ShellTerminal(string what)
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
        var access = ShellGuard.Decide(secureBoot, hash);
        if (access == ShellAccess.Refused)
        {
            _log.Error($"{what} refused: the machine booted under Secure Boot and [recovery] password_hash is not set; following on_failure = \"reboot\" instead");
            return null;
        }
        var terminal = PersonsTerminal(what);
        return access == ShellAccess.Open || PasswordGiven(what, hash!, terminal) ? terminal : null;
    }

    /// <summary>The console a person pressed Enter on (when there are several), else /dev/console's own terminal.</summary>
    private string PersonsTerminal(string what)
    {
        try
        {
            return ConsoleChoice.Choose(_consoles(), what, _log)?.TerminalPath ?? "/dev/console";
        }
        catch (Exception e) when (e is SysException or IOException)
        {
            _log.Warn($"cannot wait on the consoles ({e.Message}); {what} goes to /dev/console");
            return "/dev/console";
        }
    }

    private bool PasswordGiven(string what, string hash, string terminal)
    {
        for (int attempt = 1; attempt <= PasswordTries; attempt++)
        {
            string? answer;
            try
            {
                answer = ConsoleSecret.Ask(terminal, $"Secure Boot is on: give the recovery password for {what} (Control-D to give up): ");
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

    /// <summary>Runs a shell on <paramref name="terminal"/> and waits for it; false when the initramfs has none.</summary>
    private bool RunShell(string banner, string terminal)
    {
        var (path, argv) = FindShell(terminal);
        if (path is null)
        {
            return false;
        }
        _log.Info($"{banner} (on {terminal})");
        try
        {
            var exit = _reaper.Run(() => Start(path, argv, terminal));
            _log.Info($"emergency shell ended ({exit})");
            return true;
        }
        catch (SysException e)
        {
            _log.Error($"cannot start the emergency shell: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// On a real terminal the shell leads a session whose controlling terminal it is (so Ctrl-C
    /// works); /dev/console cannot be one, so there busybox's cttyhack finds the tty behind it.
    /// </summary>
    private static int Start(string path, string[] argv, string terminal)
    {
        if (terminal == "/dev/console")
        {
            return Processes.Spawn(path, argv, ShellEnvironment, terminal, newSession: true);
        }
        int fd = Files.Open(terminal, OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        try
        {
            var started = Processes.SpawnExact(path, argv, ShellEnvironment, new SpawnOptions { Flags = SpawnFlags.NewSession | SpawnFlags.Foreground, StdioFd = fd });
            return started.Pid;
        }
        finally
        {
            Files.Close(fd);
        }
    }

    private static (string? Path, string[] Argv) FindShell(string terminal)
    {
        if (File.Exists("/bin/busybox"))
        {
            return ("/bin/busybox", terminal == "/dev/console" ? ["cttyhack", "/bin/sh"] : ["sh"]);
        }
        return File.Exists("/bin/sh") ? ("/bin/sh", ["/bin/sh"]) : (null, []);
    }

    private void Leave(RebootCommand command, string what)
    {
        _log.Info($"{what} (failure policy)");
        Files.Sync();
        _log.DrainConsoles(TimeSpan.FromSeconds(2));
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

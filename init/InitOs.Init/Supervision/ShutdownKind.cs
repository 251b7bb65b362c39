using InitOs.Sys;

namespace InitOs.Init.Supervision;

public enum ShutdownKind
{
    Reboot,
    PowerOff,
    Halt,
}

/// <summary>busybox init's signal conventions, which `initos reboot|poweroff|halt` also use.</summary>
public static class ShutdownSignals
{
    public static readonly IReadOnlyDictionary<int, ShutdownKind> BySignal = new Dictionary<int, ShutdownKind>
    {
        [Signal.Term] = ShutdownKind.Reboot,
        [Signal.Int] = ShutdownKind.Reboot,    // Ctrl-Alt-Del once the kernel's CAD is turned into a signal
        [Signal.Usr1] = ShutdownKind.Halt,
        [Signal.Usr2] = ShutdownKind.PowerOff,
    };

    /// <summary>
    /// Asks PID 1 for a shutdown with its own signal: systemd's (SIGRTMIN+5 reboot, +4 power
    /// off, +3 halt) when PID 1 is systemd, busybox's otherwise (which InitOS's PID 1 shares).
    /// busybox's signals would make systemd re-execute itself (SIGTERM) or dump its state
    /// (SIGUSR2). False (said on stderr) when PID 1 cannot be signalled.
    /// </summary>
    public static bool AskPid1(ShutdownKind kind)
    {
        int signal = SignalFor(kind, Pid1IsSystemd());
        if (Processes.Signal(1, signal))
        {
            return true;
        }
        Console.Error.WriteLine($"initos: cannot signal PID 1 ({Signal.Name(signal)}): are you root?");
        return false;
    }

    /// <summary>Whether PID 1 is systemd (after switch_root into a systemd OS), by its command name.</summary>
    public static bool Pid1IsSystemd(string proc = "/proc")
    {
        try
        {
            return File.ReadAllText(Path.Combine(proc, "1/comm")).Trim() == "systemd";
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static int SignalFor(ShutdownKind kind, bool systemd = false) => (kind, systemd) switch
    {
        (ShutdownKind.Reboot, true) => Signal.RtMin + 5,
        (ShutdownKind.Halt, true) => Signal.RtMin + 3,
        (_, true) => Signal.RtMin + 4,
        (ShutdownKind.Reboot, false) => Signal.Term,
        (ShutdownKind.Halt, false) => Signal.Usr1,
        _ => Signal.Usr2,
    };

    public static RebootCommand Command(ShutdownKind kind) => kind switch
    {
        ShutdownKind.Reboot => RebootCommand.Restart,
        ShutdownKind.Halt => RebootCommand.Halt,
        _ => RebootCommand.PowerOff,
    };
}

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

    /// <summary>Asks PID 1 for a shutdown with busybox's signal; false (said on stderr) when it cannot be signalled.</summary>
    public static bool AskPid1(ShutdownKind kind)
    {
        int signal = SignalFor(kind);
        if (Processes.Signal(1, signal))
        {
            return true;
        }
        Console.Error.WriteLine($"initos: cannot signal PID 1 ({Signal.Name(signal)}): are you root?");
        return false;
    }

    public static int SignalFor(ShutdownKind kind) => kind switch
    {
        ShutdownKind.Reboot => Signal.Term,
        ShutdownKind.Halt => Signal.Usr1,
        _ => Signal.Usr2,
    };

    public static RebootCommand Command(ShutdownKind kind) => kind switch
    {
        ShutdownKind.Reboot => RebootCommand.Restart,
        ShutdownKind.Halt => RebootCommand.Halt,
        _ => RebootCommand.PowerOff,
    };
}

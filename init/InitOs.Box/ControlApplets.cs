using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>`initos reboot|poweroff|halt` (ask PID 1, busybox's signals) and `initos services`.</summary>
internal static class ControlApplets
{
    public static int Reboot(string[] args) => Ask(ShutdownKind.Reboot, args);

    public static int PowerOff(string[] args) => Ask(ShutdownKind.PowerOff, args);

    public static int Halt(string[] args) => Ask(ShutdownKind.Halt, args);

    private static int Ask(ShutdownKind kind, string[] args)
    {
        if (args.Length > 0)
        {
            Console.Error.WriteLine($"initos {kind.ToString().ToLowerInvariant()}: takes no arguments (got '{args[0]}')");
            return 2;
        }
        int signal = ShutdownSignals.SignalFor(kind);
        if (!Processes.Signal(1, signal))
        {
            Console.Error.WriteLine($"initos: cannot signal PID 1 ({Signal.Name(signal)}): are you root?");
            return 1;
        }
        return 0;
    }

    public static int Services(string[] args)
    {
        bool json = args is ["--json"];
        if (args.Length > 0 && !json)
        {
            Console.Error.WriteLine($"initos services: unknown argument '{args[0]}' (use --json for machine-readable output)");
            return 2;
        }
        if (!File.Exists(StatusFile.DefaultPath))
        {
            Console.Error.WriteLine($"initos services: {StatusFile.DefaultPath} does not exist: PID 1 supervises no services (switch_root mode hands the machine to the OS's init)");
            return 1;
        }
        Console.WriteLine(json ? File.ReadAllText(StatusFile.DefaultPath) : StatusFile.Table());
        return 0;
    }
}

using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `reboot` and `poweroff` after switch_root into systemd: systemd's own signal, then proof that
/// it went for it. Signals do not answer, so the proof is what systemd does on the way down:
/// stopping systemd-user-sessions makes /run/nologin, and at the end PID 1 becomes
/// systemd-shutdown. Until one is seen the command has not worked, and it says so.
/// </summary>
public static class SystemdShutdown
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public static int Run(ShutdownKind kind, string proc = "/proc")
    {
        var verb = kind == ShutdownKind.Reboot ? "reboot" : kind == ShutdownKind.Halt ? "halt" : "power off";
        if (!ShutdownSignals.Pid1IsSystemd(proc))
        {
            return AskPid1Shortly(kind, verb);
        }
        if (!ShutdownSignals.AskPid1(kind))
        {
            return 1;
        }
        var signal = Sys.Signal.Name(ShutdownSignals.SignalFor(kind, systemd: true));
        Console.WriteLine($"asked systemd (PID 1) to {verb} ({signal})");
        Console.Out.Flush();
        if (GoesDown(proc, Wait))
        {
            Console.WriteLine($"systemd is going down to {verb}");
            return 0;
        }
        Console.Error.WriteLine($"initos admin: systemd (PID 1) did not start to {verb} within {Wait.TotalSeconds:F0} s of {signal}; the machine is still up");
        return 1;
    }

    /// <summary>
    /// InitOS's PID 1 (or busybox init) is asked a second from now, by the box's own applet in a
    /// session of its own: PID 1 stops services at once, and this session's answer must reach
    /// the admin first.
    /// </summary>
    private static int AskPid1Shortly(ShutdownKind kind, string verb)
    {
        var applet = kind == ShutdownKind.Reboot ? "reboot" : kind == ShutdownKind.Halt ? "halt" : "poweroff";
        var box = Environment.ProcessPath ?? "/bin/initos";
        Sys.Processes.Spawn(box, [applet, "-d", "1"], ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "/dev/null", newSession: true);
        Console.WriteLine($"PID 1 will {verb} in 1 s");
        return 0;
    }

    private static bool GoesDown(string proc, TimeSpan wait)
    {
        var nologin = Path.Combine(proc, "1/root/run/nologin");
        bool before = File.Exists(nologin);
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if ((!before && File.Exists(nologin)) || !ShutdownSignals.Pid1IsSystemd(proc))
            {
                return true;
            }
            Thread.Sleep(200);
        }
        return false;
    }
}

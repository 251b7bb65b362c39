using InitOs.Jails.Running;

namespace InitOs.Box;

/// <summary>The applets of the multi-call binary and how a name selects one.</summary>
internal static class Applets
{
    private static readonly Dictionary<string, Func<string[], int>> ByName = new(StringComparer.Ordinal)
    {
        ["init"] = InitApplet.Run,
        ["reboot"] = ControlApplets.Reboot,
        ["poweroff"] = ControlApplets.PowerOff,
        ["halt"] = ControlApplets.Halt,
        ["services"] = ControlApplets.Services,
        ["admin"] = AdminApplet.Run,
        ["sidecar"] = SidecarApplet.Run,
        ["tini"] = TiniApplet.Run,
        ["jail"] = JailApplet.Run,
        [JailLauncher.InitApplet] = JailInitApplet.Run,
        ["version"] = _ => Version(),
        ["help"] = _ => Help(),
    };

    public static int Dispatch(string argv0, string[] args)
    {
        var name = Path.GetFileName(argv0);
        if (ByName.TryGetValue(name, out var applet))
        {
            return applet(args);
        }
        if (args.Length > 0 && ByName.TryGetValue(args[0], out applet))
        {
            return applet(args[1..]);
        }
        if (args.Length == 0)
        {
            return Help();
        }
        Console.Error.WriteLine($"initos: unknown applet '{args[0]}'. Applets: {string.Join(", ", ByName.Keys)}");
        return 2;
    }

    private static int Version()
    {
        Console.WriteLine($"initos {typeof(Applets).Assembly.GetName().Version}");
        return 0;
    }

    private static int Help()
    {
        Console.WriteLine("""
            initos — the InitOS multi-call binary (runs inside the machine)

            Usage: initos APPLET [ARGS]   or call it by an applet's name (argv[0])

            Applets:
              init      PID 1: the boot sequence (what the kernel runs as /init)
              reboot    ask PID 1 to reboot (SIGTERM), poweroff (SIGUSR2) or halt (SIGUSR1)
              poweroff
              halt
              services  the services PID 1 supervises (--json for machine-readable output)
              admin     the admin commands an ssh session is forced into (status, services, reboot, poweroff)
              tini      tini 0.19's command line: run one program as a container's init
              jail      OCI bundles as jails: run, create, start, state, kill, delete, list
              version   print the version
              help      this text
            """);
        return 0;
    }
}

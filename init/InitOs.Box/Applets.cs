using InitOs.Init;
using InitOs.Jails.Running;
using InitOs.Sidecar;
using InitOs.Sidecar.Admin;
using InitOs.Sidecar.Ssh;

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
        [Sidecar.Upgrades.UpgradeJudge.Applet] = Sidecar.Upgrades.UpgradeJudge.Run,
        [SshDoorApplet.Name] = SshDoorApplet.Run,
        ["tini"] = TiniApplet.Run,
        ["chain"] = InitOs.Os.Chain.ChainApplet.Run,
        ["jail"] = JailApplet.Run,
        // The runtime under a runc-style name (busybox style): `podman --runtime /usr/lib/initos/initos-runc`.
        [JailApplet.RuntimeName] = JailApplet.Run,
        [JailLauncher.InitApplet] = JailInitApplet.Run,
        ["version"] = _ => Version(),
        ["--version"] = _ => Version(),
        ["help"] = _ => Help(),
        ["--help"] = _ => Help(),
        ["-h"] = _ => Help(),
    };

    /// <summary>What people call; the others are run by the kernel (init) or by InitOS itself.</summary>
    public static readonly IReadOnlyList<string> UserFacing = ["reboot", "poweroff", "halt", "services", "admin", "tini", "chain", "jail", "version", "help"];

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
        Console.Error.WriteLine($"initos: unknown applet '{args[0]}'. Applets: {string.Join(", ", UserFacing)} (initos --help says more)");
        return 2;
    }

    private static int Version()
    {
        Console.WriteLine($"initos {BuildVersion.Text}");
        return 0;
    }

    private static int Help()
    {
        Console.WriteLine("""
            initos — the InitOS multi-call binary (runs inside the machine)

            Usage: initos APPLET [ARGS]   or call it by an applet's name (argv[0])

            Applets:
              reboot [-f] [-n] [-d SECONDS]     ask PID 1 to reboot (busybox's flags: -f at once, without
              poweroff [-f] [-n] [-d SECONDS]     PID 1; -n without sync; -d wait first)
              halt [-f] [-n] [-d SECONDS]
              services [--json]                 the services PID 1 supervises
              admin COMMAND                     what an admin's ssh session runs:
                                                  status [--json], services [--json], services restart NAME,
                                                  services kill NAME, logs [--follow], jail debug NAME [WORD...],
                                                  reboot, poweroff, upgrade status|apply|bless|rollback, help
              tini [OPTIONS] PROGRAM [ARGS]     tini 0.19's command line: PROGRAM under a reaping init
              chain HELPER [ARGS] -- COMMAND    one step (mount, sshd, env, user, wait-for), then COMMAND
                                                  (initos chain --help says more)
              jail COMMAND                      OCI bundles as jails: run, create, start, state, exec, kill,
                                                  delete, list, pool init (initos jail --help says more)
              version                           print the version (also --version)
              help                              this text (also --help, -h)
            """);
        return 0;
    }
}

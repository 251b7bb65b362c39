using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Machine;
using InitOs.Sidecar.Ssh;

namespace InitOs.Sidecar;

/// <summary>The sidecar's part of the boot: where PID 1's sequence asks for it (<see cref="BootExtensions"/>).</summary>
public static class SidecarBoot
{
    /// <summary>When InitOS stays PID 1 and [sidecar] ssh is on: authorized_keys and the host key directory before sshd starts.</summary>
    public static Phase Phase => new("sidecar",
    [
        new("prepare-ssh", c => SshSidecar.Prepare(c.RequireSettings().Sidecar)),
    ], c => BootSequence.StaysPid1(c) && c.RequireSettings().Sidecar.Ssh);

    /// <summary>With [sidecar] ssh on, the admin door outlives the hand-off (<see cref="SidecarStaging"/>).</summary>
    public static BootTask StartBeforeHandoff => new("start-sidecar", Start);

    private static void Start(BootContext context)
    {
        var sidecar = context.RequireSettings().Sidecar;
        if (!sidecar.Ssh)
        {
            return;
        }
        try
        {
            SshSidecar.Prepare(sidecar);
            SidecarStaging.Stage(sidecar);
            if (sidecar.Start == SidecarStart.AfterInit && HandToSystemd(context, sidecar))
            {
                return;
            }
            int pid = SidecarStaging.Start(sidecar, TimeSpan.FromSeconds(30));
            context.Log.Info($"sidecar: started from {SidecarStaging.Root} as pid {pid}; it outlives the hand-off");
        }
        catch (Exception e) when (e is InvalidOperationException or Sys.SysException or IOException)
        {
            // The OS still boots; only the admin door is missing.
            context.Log.Error($"sidecar: {e.Message}; handing off without it");
        }
    }

    /// <summary>start = "after-init": a unit systemd starts once it is up; false (and a warning) when the OS's init is not systemd.</summary>
    private static bool HandToSystemd(BootContext context, SidecarConfig sidecar)
    {
        var init = context.RequireSettings().Init;
        var resolved = NewRootPaths.Resolve(new LinuxSystem(), context.NewRoot, init);
        if (!SidecarUnit.IsSystemd(resolved))
        {
            context.Log.Warn($"sidecar: start = \"after-init\" needs systemd as the OS's init, and {init} is {resolved[context.NewRoot.Length..]}; started from the initramfs instead");
            return false;
        }
        SidecarStaging.MountInto(sidecar);
        var unit = SidecarUnit.Write(sidecar);
        context.Log.Info($"sidecar: systemd ({init}) starts it once it is up: {unit}, wanted by {SidecarUnit.WantedBy}");
        return true;
    }
}

using System.Globalization;
using InitOs.Init.Config;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// [sidecar] start = "after-init": the door as a systemd runtime unit. PID 1 writes it under
/// /run/systemd/system (the tmpfs that moves into the new root; nothing on the OS's disk)
/// and links it from basic.target.wants; systemd reads it when it starts and runs the staged
/// sidecar chrooted into /run/initramfs. Ordered after sysinit.target and before basic.target,
/// every ordinary service (those come after basic.target) is stopped before it at shutdown,
/// and it stops before the mounts it runs from.
/// </summary>
public static class SidecarUnit
{
    public const string Name = "initos-sidecar.service";
    public const string Directory = "/run/systemd/system";
    public const string WantedBy = "basic.target";

    public static string Text(SidecarConfig sidecar)
    {
        var port = sidecar.Port.ToString(CultureInfo.InvariantCulture);
        var listen = sidecar.Listen.Count > 0 ? $" --listen {string.Join(',', sidecar.Listen)}" : "";
        const string root = SidecarStaging.Root;
        return $"""
            # Written by InitOS's PID 1 before switch_root ([sidecar] start = "after-init"); lives in /run only.
            [Unit]
            Description=InitOS sidecar: the admin door (ssh)
            DefaultDependencies=no
            After=sysinit.target
            Before=basic.target shutdown.target
            Conflicts=shutdown.target

            [Service]
            Type=simple
            Environment=PATH=/bin:/usr/sbin
            ExecStart={root}/lib64/ld-linux-x86-64.so.2 --library-path {root}/lib/x86_64-linux-gnu:{root}/lib64 --argv0 {SidecarStaging.Argv0} {root}/bin/initos sidecar --port {port}{listen}
            Restart=always
            RestartSec=1
            # The door's protection (DoorProtection) in systemd's words: systemd owns the cgroup.
            OOMScoreAdjust={DoorProtection.OomScoreAdjust}
            MemoryLow={DoorProtection.MemoryLow}
            CPUWeight={DoorProtection.CpuWeight}
            KillMode=mixed
            TimeoutStopSec=15
            StandardOutput=journal+console
            StandardError=inherit

            """;
    }

    /// <summary>The unit and its wants link in <paramref name="systemDirectory"/>; returns the unit's path.</summary>
    public static string Write(SidecarConfig sidecar, string systemDirectory = Directory)
    {
        var wants = Path.Combine(systemDirectory, WantedBy + ".wants");
        System.IO.Directory.CreateDirectory(wants);
        var unit = Path.Combine(systemDirectory, Name);
        File.WriteAllText(unit, Text(sidecar));
        var link = Path.Combine(wants, Name);
        if (!Path.Exists(link))
        {
            File.CreateSymbolicLink(link, "../" + Name);
        }
        return unit;
    }

    /// <summary>Whether an init (its path resolved in the new root) is systemd: /lib/systemd/systemd, whatever links lead there.</summary>
    public static bool IsSystemd(string resolvedInit) => Path.GetFileName(resolvedInit) == "systemd";
}

using InitOs.Init.Config;
using InitOs.Sys;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// The sidecar outliving switch_root. Before the hand-off PID 1 copies what the sidecar needs into
/// /run/initramfs: the box, busybox, dropbear, their libraries, root's authorized_keys, and
/// /etc/passwd. /run is a tmpfs that moves into the new root and that the OS keeps (systemd's
/// convention for the initramfs it returns to at shutdown). Then PID 1 starts `@initos sidecar`
/// there. The '@' tells systemd not to kill it at shutdown. It chroots into that directory,
/// so the initramfs can be deleted under it, and supervises dropbear itself.
/// </summary>
public static class SidecarStaging
{
    public const string Root = "/run/initramfs";
    public const string Argv0 = "@initos";
    /// <summary>Made by the sidecar once it runs chrooted (so /run may move and the initramfs go).</summary>
    public const string ReadyMarker = "/run/sidecar.ready";

    private static readonly string[] Files = ["/bin/initos", "/bin/busybox", SshSidecar.Dropbear, "/etc/passwd", "/etc/group", "/etc/initrd-release", InitosConfig.DefaultPath];
    private static readonly string[] LibraryDirectories = ["/lib/x86_64-linux-gnu", "/lib64"];

    public static void Stage(SidecarConfig sidecar)
    {
        foreach (var directory in new[] { "proc", "sys", "dev", "run", "tmp", "etc/dropbear", "root/.ssh" })
        {
            Directory.CreateDirectory(Path.Combine(Root, directory));
        }
        File.SetUnixFileMode(Path.Combine(Root, "etc/dropbear"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in Files.Where(File.Exists))
        {
            Copy(file);
        }
        foreach (var directory in LibraryDirectories.Where(Directory.Exists))
        {
            foreach (var library in Directory.GetFiles(directory))
            {
                Copy(library);
            }
        }
        if (!Path.Exists(Path.Combine(Root, "bin/sh")))
        {
            File.CreateSymbolicLink(Path.Combine(Root, "bin/sh"), "busybox");
        }
        Copy(SshSidecar.AuthorizedKeys);
        InitOs.Sys.Files.Chown(Path.Combine(Root, "root"), 0, 0);
        File.SetUnixFileMode(Path.Combine(Root, "root"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>
    /// The sidecar's mounts (<see cref="MountInto"/>), then the sidecar itself, detached from this boot. Returns
    /// once it has chrooted: before that, its loader still reads the initramfs and its chroot
    /// path is only valid while /run is where it is now.
    /// </summary>
    public static int Start(SidecarConfig sidecar, TimeSpan wait)
    {
        var marker = Path.Combine(Root, ReadyMarker.TrimStart('/'));
        File.Delete(marker);
        MountInto(sidecar);
        var port = sidecar.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int pid = Processes.Spawn(Path.Combine(Root, "bin/initos"), [Argv0, "sidecar", "--port", port, .. (sidecar.Listen.Count > 0 ? new[] { "--listen", string.Join(',', sidecar.Listen) } : [])], ["PATH=/bin:/usr/sbin"], "/dev/console", newSession: true);
        var deadline = DateTime.UtcNow + wait;
        while (!File.Exists(marker))
        {
            if (DateTime.UtcNow > deadline)
            {
                Processes.Signal(pid, Signal.Kill);
                throw new InvalidOperationException($"the sidecar (pid {pid}) did not get ready within {wait.TotalSeconds:F0} s");
            }
            Thread.Sleep(10);
        }
        return pid;
    }

    /// <summary>The sidecar's own /proc, /sys and /dev, its host keys and the ESP, under <see cref="Root"/> (they move with /run).</summary>
    public static void MountInto(SidecarConfig sidecar)
    {
        Mounts.Mount("proc", Path.Combine(Root, "proc"), "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null);
        Mounts.Mount("sysfs", Path.Combine(Root, "sys"), "sysfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null);
        Mounts.Mount("devtmpfs", Path.Combine(Root, "dev"), "devtmpfs", MountFlags.NoSuid, "mode=0755");
        // The host keys stay where PID 1 keeps them (a data volume keeps them across boots).
        Mounts.Mount(sidecar.HostKeys, Path.Combine(Root, SshSidecar.DropbearKeyDirectory.TrimStart('/')), null, MountFlags.Bind, null);
        // Upgrades write the ESP from here (the OS may mount it too; it is one filesystem).
        if (Directory.Exists(Path.Combine(Upgrades.EspSlots.MountPoint, Upgrades.EspSlots.EntriesDirectory)))
        {
            var esp = Path.Combine(Root, Upgrades.EspSlots.MountPoint.TrimStart('/'));
            Directory.CreateDirectory(esp);
            Mounts.Mount(Upgrades.EspSlots.MountPoint, esp, null, MountFlags.Bind, null);
        }
    }

    private static void Copy(string file)
    {
        var target = Path.Combine(Root, file.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(file, target, overwrite: true);
        File.SetUnixFileMode(target, File.GetUnixFileMode(file));
    }
}

using InitOs.Tools;

namespace InitOs.ImageBuild.Rootfs;

/// <summary>
/// A real distribution as the OS: Debian by debootstrap (minbase, with systemd as /sbin/init),
/// with a hostname, no fstab entries (the root is mounted by InitOS, read-only or as a jail's
/// overlay), and one unit that prints a marker once systemd has reached multi-user.target —
/// tests and `make demo` look for it, as for the default OS's INITOS-OS-UP.
/// </summary>
public static class DebianRootfs
{
    public const string Marker = "INITOS-DEBIAN-UP";
    public const string DefaultHostname = "initos-debian";
    public const string DefaultSuite = "bookworm";
    public const string DefaultMirror = "http://deb.debian.org/debian";

    /// <summary>Ordered after multi-user.target and wanted by it: runs once that target is reached.</summary>
    public const string MarkerUnit = """
        [Unit]
        Description=InitOS test marker: multi-user.target reached
        After=multi-user.target

        [Service]
        Type=oneshot
        ExecStart=/bin/sh -c 'read up _ < /proc/uptime; echo "INITOS-DEBIAN-UP uptime=$up pid1=$(cat /proc/1/comm) virt=$(systemd-detect-virt --container || true) target=multi-user rootfs=$(findmnt -no FSTYPE /)" > /dev/console'

        [Install]
        WantedBy=multi-user.target
        """;

    /// <summary>
    /// What minbase gets besides its own: systemd as init, and udev, which every installed Debian
    /// has. Without udev no device unit ever becomes ready, so the serial getty that systemd adds
    /// for the console waits for /dev/ttyS0 until its 90 s timeout, holding multi-user.target.
    /// </summary>
    public static readonly IReadOnlyList<string> Packages = ["systemd", "systemd-sysv", "udev"];

    /// <summary>debootstrap into <paramref name="directory"/>, then the InitOS touches.</summary>
    public static void Stage(string directory, string suite = DefaultSuite, string mirror = DefaultMirror, IEnumerable<string>? extraPackages = null)
    {
        var include = string.Join(',', Packages.Concat(extraPackages ?? []));
        ExternalTool.Run("debootstrap", ["--variant=minbase", $"--include={include}", suite, directory, mirror]);
        File.WriteAllText(Path.Combine(directory, "etc/hostname"), DefaultHostname + "\n");
        File.WriteAllText(Path.Combine(directory, "etc/fstab"), "# the root is mounted by InitOS\n");
        var unit = Path.Combine(directory, "etc/systemd/system/initos-marker.service");
        File.WriteAllText(unit, MarkerUnit + "\n");
        var wants = Path.Combine(directory, "etc/systemd/system/multi-user.target.wants");
        Directory.CreateDirectory(wants);
        File.CreateSymbolicLink(Path.Combine(wants, "initos-marker.service"), "/etc/systemd/system/initos-marker.service");
        // A machine id now: an empty one makes systemd treat the boot as the first and run
        // systemd-firstboot, which prompts on the console (and the root may be read-only).
        File.WriteAllText(Path.Combine(directory, "etc/machine-id"), Guid.NewGuid().ToString("N") + "\n");
        // apt's caches are not part of the OS.
        foreach (var cache in Directory.GetFiles(Path.Combine(directory, "var/cache/apt/archives"), "*.deb"))
        {
            File.Delete(cache);
        }
    }
}

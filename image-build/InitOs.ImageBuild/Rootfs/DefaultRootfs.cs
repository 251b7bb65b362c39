using InitOs.Tools;

namespace InitOs.ImageBuild.Rootfs;

/// <summary>
/// The default OS: busybox-static and an /sbin/init that prints one marker line and then
/// hands PID 1 to busybox init, which waits for a shutdown request (SIGTERM reboots,
/// SIGUSR2 powers off, Ctrl-Alt-Del reboots). Tests and the demo look for the marker.
/// </summary>
public static class DefaultRootfs
{
    public const string Marker = "INITOS-OS-UP";
    public const string DefaultLabel = "initos-root";
    public const string DefaultHostname = "initos-default";

    /// <summary>Extra files a caller adds (path inside the image → content and mode).</summary>
    public sealed record ExtraFile(string Path, string Content, int Mode = 0x1ED);

    public const string InitScript = """
        #!/bin/sh
        # InitOS default OS init: print the marker, then let busybox init wait for a shutdown request.
        PATH=/usr/sbin:/usr/bin:/sbin:/bin
        export PATH
        [ -e /proc/self ] || mount -t proc proc /proc
        [ -e /sys/kernel ] || mount -t sysfs sysfs /sys
        hostname -F /etc/hostname
        read -r up _ < /proc/uptime
        fstype=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)
        options=$(awk '$2 == "/" { o = $4 } END { print o }' /proc/mounts)
        echo "INITOS-OS-UP uptime=$up pid=$$ hostname=$(hostname) rootfs=$fstype"
        echo "INITOS-OS-ROOT options=$options args=$*"
        exec /bin/busybox init
        """;

    public const string Inittab = """
        ::askfirst:-/bin/sh
        ::ctrlaltdel:/sbin/reboot
        ::shutdown:/bin/sync
        ::shutdown:/bin/umount -a -r
        """;

    public static void Stage(string directory, string busybox = "/bin/busybox", IEnumerable<ExtraFile>? extras = null)
    {
        foreach (var dir in new[] { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "run", "tmp", "root", "mnt" })
        {
            Directory.CreateDirectory(Path.Combine(directory, dir));
        }
        File.Copy(busybox, Path.Combine(directory, "bin/busybox"), overwrite: true);
        LinkApplets(directory, busybox);
        Write(directory, new ExtraFile("sbin/init", InitScript + "\n"));
        Write(directory, new ExtraFile("etc/inittab", Inittab + "\n", 0x1A4));
        Write(directory, new ExtraFile("etc/hostname", DefaultHostname + "\n", 0x1A4));
        Write(directory, new ExtraFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0x1A4));
        Write(directory, new ExtraFile("etc/group", "root:x:0:\n", 0x1A4));
        Write(directory, new ExtraFile("etc/os-release", "NAME=\"InitOS default OS\"\nID=initos-default\nPRETTY_NAME=\"InitOS default OS (busybox)\"\n", 0x1A4));
        foreach (var extra in extras ?? [])
        {
            Write(directory, extra);
        }
    }

    /// <summary>One symlink per applet, where busybox says the applet lives (bin/ls, sbin/reboot …).</summary>
    private static void LinkApplets(string directory, string busybox)
    {
        foreach (var applet in ExternalTool.Run(busybox, ["--list-full"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var link = Path.Combine(directory, applet.Trim());
            if (applet.Trim() is "sbin/init" or "linuxrc" || File.Exists(link))
            {
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, "/bin/busybox");
        }
    }

    private static void Write(string directory, ExtraFile file)
    {
        var path = Path.Combine(directory, file.Path.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
        File.WriteAllText(path, file.Content.Replace("\r\n", "\n", StringComparison.Ordinal));
        File.SetUnixFileMode(path, (UnixFileMode)file.Mode);
    }
}

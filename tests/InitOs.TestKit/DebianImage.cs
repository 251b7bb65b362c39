using System.Security.Cryptography;
using System.Text;
using InitOs.ImageBuild.Rootfs;
using InitOs.Sys;

namespace InitOs.TestKit;

/// <summary>
/// The Debian root image (`initos build rootfs --debootstrap`: minbase with systemd) the tests
/// boot and unpack: made once per machine (about two minutes; debootstrap from
/// deb.debian.org), kept in .cache keyed by its units and packages, under a file lock so test
/// assemblies that run at once make it once.
/// </summary>
public static class DebianImage
{
    public const string Label = "initos-debian";
    public const string ReexecMarker = "INITOS-DEBIAN-REEXEC";

    /// <summary>
    /// A test unit, inert unless the kernel command line says initos.test_reexec: once
    /// multi-user is reached it prints the sidecar unit's main pid and state, runs `systemctl
    /// daemon-reexec`, and prints them again.
    /// </summary>
    public const string ReexecUnit = """
        [Unit]
        Description=InitOS test: systemctl daemon-reexec once the machine is up
        ConditionKernelCommandLine=initos.test_reexec
        After=multi-user.target initos-marker.service

        [Service]
        Type=oneshot
        ExecStart=/bin/sh -c 'u=initos-sidecar.service; b="$(systemctl show -p MainPID --value $u) $(systemctl is-active $u)"; systemctl daemon-reexec; echo "INITOS-DEBIAN-REEXEC before=$b after=$(systemctl show -p MainPID --value $u) $(systemctl is-active $u)" > /dev/console'

        [Install]
        WantedBy=multi-user.target
        """;

    public static string Cached()
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DebianRootfs.MarkerUnit + ReexecUnit + string.Join(',', DebianRootfs.Packages))))[..12];
        var cache = Directory.CreateDirectory(Path.Combine(RepoPaths.Root, ".cache")).FullName;
        var cached = Path.Combine(cache, $"debian-{DebianRootfs.DefaultSuite}-{key}.img");
        using var held = FileLock.Exclusive(cached + ".lock");
        if (!File.Exists(cached))
        {
            var staging = Directory.CreateTempSubdirectory("initos-debian-").FullName;
            try
            {
                DebianRootfs.Stage(staging);
                File.WriteAllText(Path.Combine(staging, "etc/systemd/system/initos-test-reexec.service"), ReexecUnit + "\n");
                File.CreateSymbolicLink(Path.Combine(staging, "etc/systemd/system/multi-user.target.wants/initos-test-reexec.service"), "/etc/systemd/system/initos-test-reexec.service");
                FilesystemImage.CreateExt4(staging, cached + ".tmp", new FilesystemImage.Ext4Options(Label, SizeMiB: 1024));
                File.Move(cached + ".tmp", cached);
            }
            finally
            {
                Tool.Run("rm", "-rf", "--one-file-system", staging);
            }
        }
        return cached;
    }
}

using InitOs.Admin;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Disk;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// What the upgrade boots share, built once per run in the boot collection's scratch directory:
/// signed UKIs of a release (mode initramfs, DHCP, the admin door, upgrades on), their signed
/// bundles, a disk booting systemd-boot with the first one, and the machine booted from it.
/// </summary>
internal sealed class UpgradeImages(BootImages images)
{
    public const string MachineClass = "qemu-test";
    public static readonly TimeSpan FirmwareTimeout = TimeSpan.FromSeconds(180);

    public string SshKey(string name)
    {
        var path = images.Scratch(name);
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    private KeySet Snakeoil => KeySet.Snakeoil(images.Scratch("keys-snakeoil"));

    /// <summary>A signed UKI of release <paramref name="version"/>, with two tries per staged version and a 3 s settle.</summary>
    public string Uki(string version, string upgradeExtra = "")
    {
        var uki = images.Scratch($"upgrade-{version}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(upgradeExtra)))[..8]}.efi");
        if (File.Exists(uki))
        {
            return uki;
        }
        var upgrade = $"[upgrade]\nkeys = [\"{File.ReadAllText(SshKey("release") + ".pub").Trim()}\"]\ncompatible = \"{MachineClass}\"\n" +
            $"min_version = \"1.0\"\nversion = \"{version}\"\nsettle_seconds = 3\ntries = 2\n{upgradeExtra}";
        var toml = GuestConfig.Pid1(GuestConfig.DhcpAndSidecar(SshKey("admin") + ".pub") + "\n" + upgrade,
            modules: "load = []\ninclude = [\"virtio_pci\", \"virtio_net\", \"virtio_blk\"]\ncoldplug = true");
        return SignedUki(uki, version, toml, "console=ttyS0 panic=-1");
    }

    /// <summary>The [upgrade] table of release <paramref name="version"/>: this run's release key and machine class, two tries per staged version.</summary>
    public string UpgradeTable(string version, int settleSeconds, int deadlineSeconds) =>
        $"[upgrade]\nkeys = [\"{File.ReadAllText(SshKey("release") + ".pub").Trim()}\"]\ncompatible = \"{MachineClass}\"\n" +
        $"min_version = \"1.0\"\nversion = \"{version}\"\nsettle_seconds = {settleSeconds}\ndeadline_seconds = {deadlineSeconds}\ntries = 2\n";

    /// <summary>A UKI of release <paramref name="version"/> with this config and command line, signed with the snakeoil db key (once per run).</summary>
    public string SignedUki(string output, string version, string toml, string cmdline)
    {
        if (File.Exists(output))
        {
            return output;
        }
        var initramfs = images.InitramfsWith(Path.GetFileNameWithoutExtension(output), toml);
        UkiBuilder.Build(new UkiSpec
        {
            Kernel = images.Kernel,
            Initrd = initramfs,
            Cmdline = cmdline,
            OsRelease = InitOs.Init.BuildVersion.OsReleaseFor(version),
        }, output, Snakeoil);
        return output;
    }

    public string Bundle(string version, string uki)
    {
        var output = Path.ChangeExtension(uki, ".bundle.tar");
        if (!File.Exists(output))
        {
            BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", uki, [], SshKey("release")), output);
        }
        return output;
    }

    /// <summary>A new disk: systemd-boot (signed with the snakeoil db key) and <paramref name="uki"/> as its one entry; a root partition when given.</summary>
    public string Disk(string name, string uki, string? rootfs = null)
    {
        var disk = images.Scratch(name);
        File.Delete(disk);
        BootDisk.Write(new BootDisk.Layout(uki, rootfs, null, SystemdBoot: true, Snakeoil, null, 96L << 20), disk);
        return disk;
    }

    /// <summary>The machine: OVMF with Secure Boot, the disk, a NIC with ssh forwarded, QEMU's i6300esb watchdog.</summary>
    public static VmBoot Boot(string name, string disk, string vars, int port, bool noReboot) =>
        new(name, new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars, SecureBoot: true),
            Disks = [disk],
            Network = true,
            HostForwards = [(port, 22)],
            NoReboot = noReboot,
            ExtraArguments = ["-device", "i6300esb"],
        });

    /// <summary>An admin client with a known-hosts file of its own: a machine without a data volume makes a new host key each boot.</summary>
    public AdminClient Client() => new(SshKey("admin"), new KnownHosts(images.Scratch($"upgrade-known-hosts-{Guid.NewGuid():N}")), TimeSpan.FromSeconds(120));

    public static AdminResult Apply(AdminClient client, AdminTarget target, string command, string bundle)
    {
        using var input = File.OpenRead(bundle);
        return client.Run(target, command, input);
    }
}

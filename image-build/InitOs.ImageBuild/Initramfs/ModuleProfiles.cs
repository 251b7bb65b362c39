using InitOs.Init.Config;
using InitOs.Init.Modules;

namespace InitOs.ImageBuild.Initramfs;

/// <summary>
/// Which modules a profile packs (with modules.load and modules.include, and every
/// dependency). Generic takes whole kernel directories, each a class of driver a machine may
/// boot through, so a new kernel's new drivers come along with no list to keep; host takes
/// from those what one machine's inventory matches.
/// </summary>
public static class ModuleProfiles
{
    /// <summary>Under lib/modules/VERSION/kernel/: storage, USB, MMC, keyboards, Ethernet, and the filesystems a root or data volume may use.</summary>
    public static readonly IReadOnlyList<string> GenericDirectories =
    [
        // Disks and their controllers: SATA/PATA, NVMe, SCSI with SAS/RAID/FC host adapters, Fusion MPT, virtio, loop/nbd, MD and device-mapper.
        "drivers/ata", "drivers/nvme", "drivers/scsi", "drivers/message/fusion", "drivers/virtio", "drivers/block", "drivers/md", "drivers/cdrom",
        // USB host controllers, mass storage and UAS; MMC/SD hosts and cards.
        "drivers/usb/host", "drivers/usb/storage", "drivers/usb/core", "drivers/usb/common", "drivers/mmc",
        // Keyboards: USB HID and the PS/2 controller.
        "drivers/hid", "drivers/input/keyboard", "drivers/input/serio",
        // Wired network cards and their PHYs.
        "drivers/net/ethernet", "drivers/net/phy", "drivers/net/mdio", "drivers/net/pcs",
        // Filesystems for a root or data volume, the ESP, install media, and the jail modes' layers.
        "fs/ext4", "fs/btrfs", "fs/xfs", "fs/fat", "fs/exfat", "fs/isofs", "fs/udf", "fs/erofs", "fs/squashfs", "fs/overlayfs", "fs/f2fs", "fs/nls",
    ];

    /// <summary>
    /// Left out of generic, each a class a modules.dep line shows: storage reached over a network
    /// or fabric, and the targets that serve it (Fibre Channel, iSCSI, RDMA, NVMe over fabrics,
    /// SCSI and NVMe targets, Ceph, DRBD, the cluster lock manager), and parallel SCSI (SPI) and the
    /// floppy drive (slow to probe, and a hang where a controller half answers), gone from machines
    /// that boot UEFI. A module that needs one of these is left out with it. A machine
    /// that boots from a SAN is a known machine: profile host, or modules.include.
    /// </summary>
    public static readonly IReadOnlyList<string> LeftOutModules =
        ["floppy", "scsi_transport_fc", "scsi_transport_iscsi", "libfc", "libiscsi", "ib_core", "rdma_cm", "iw_cm", "nvme_fabrics", "target_core_mod", "nvmet", "libceph", "dlm", "drbd", "scsi_transport_spi"];

    /// <summary>
    /// Ethernet drivers bigger than this are the 25-100 GbE data-plane adapters (mlx5, ice, i40e,
    /// bnx2x, qed, cxgb4, nfp on Debian 12's kernel: 2.7 MB of a compressed initramfs): the OS
    /// loads them; an admin door on one needs profile host or modules.include.
    /// </summary>
    public const long LargestEthernetDriver = 1 << 20;

    /// <summary>The code pages FAT, exFAT and ISO 9660 mount with by default; the rest of fs/nls is left out.</summary>
    public static readonly IReadOnlyList<string> DefaultCodePages = ["nls_cp437", "nls_ascii", "nls_iso8859_1", "nls_utf8"];

    /// <summary>The modules a profile asks for, before dependencies (modules.load and modules.include come on top).</summary>
    public static IReadOnlyList<string> Select(ModuleProfile profile, ModuleIndex index, string moduleDirectory, HardwareInventory? inventory)
    {
        return profile switch
        {
            ModuleProfile.Explicit => [],
            ModuleProfile.Generic => Generic(index, moduleDirectory).ToList(),
            ModuleProfile.Host => Host(index, inventory ?? HardwareInventory.Take()),
            _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "unknown profile"),
        };
    }

    private static IEnumerable<string> Generic(ModuleIndex index, string moduleDirectory)
    {
        var candidates = InGenericDirectories(index).ToList();
        var leftOut = LeftOutModules
            .Concat(candidates.Where(f => f.Value.StartsWith("kernel/drivers/net/ethernet/", StringComparison.Ordinal) && new FileInfo(Path.Combine(moduleDirectory, f.Value)).Length > LargestEthernetDriver).Select(f => f.Key))
            .ToHashSet(StringComparer.Ordinal);
        return candidates
            .Where(f => !f.Value.StartsWith("kernel/fs/nls/", StringComparison.Ordinal) || DefaultCodePages.Contains(f.Key))
            .Select(f => f.Key)
            // A module that needs a left-out one would bring it back as a dependency: it stays out too.
            .Where(m => !leftOut.Contains(m) && !index.LoadOrder(m, includeSoft: false).Any(leftOut.Contains))
            .Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// The modules.alias lines of the boot-path drivers (the generic directories) that are not
    /// packed: PID 1 names them when a root is not found and a device there has no driver.
    /// </summary>
    public static string UnpackedAliases(ModuleIndex index, IReadOnlyCollection<string> packed)
    {
        var unpacked = InGenericDirectories(index).Select(f => f.Key).Where(m => !packed.Contains(m)).ToHashSet(StringComparer.Ordinal);
        return string.Concat(index.Aliases.Where(a => unpacked.Contains(a.Module)).Select(a => $"alias {a.Pattern} {a.Module}\n"));
    }

    private static IEnumerable<KeyValuePair<string, string>> InGenericDirectories(ModuleIndex index) =>
        index.Files.Where(f => GenericDirectories.Any(d => f.Value.StartsWith("kernel/" + d + "/", StringComparison.Ordinal)));

    /// <summary>The generic modules this machine's devices match, its loaded ones, and its mounted filesystems' modules.</summary>
    private static List<string> Host(ModuleIndex index, HardwareInventory inventory)
    {
        // What the machine has decides here, so its big NIC or its SAN adapter comes along.
        var generic = InGenericDirectories(index).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
        var wanted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var module in inventory.Modaliases.SelectMany(index.MatchAlias).Concat(inventory.Modules.Select(ModuleIndex.NormalizeName)))
        {
            if (generic.Contains(module))
            {
                wanted.Add(module);
            }
        }
        foreach (var filesystem in inventory.Filesystems.Select(ModuleIndex.NormalizeName).Where(index.Contains))
        {
            wanted.Add(filesystem);
        }
        return [.. wanted];
    }
}

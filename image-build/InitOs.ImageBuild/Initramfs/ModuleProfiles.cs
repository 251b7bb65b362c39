using InitOs.ImageBuild.Kernel;
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
        // Keyboards: the HID transports (USB, I2C, Surface's), and the PS/2 controller. The HID core and
        // hid-generic come from GenericModules; drivers/hid's device-specific drivers do not (see there).
        "drivers/hid/usbhid", "drivers/hid/i2c-hid", "drivers/hid/surface-hid", "drivers/input/keyboard", "drivers/input/serio",
        // Wired network cards and their PHYs.
        "drivers/net/ethernet", "drivers/net/phy", "drivers/net/mdio", "drivers/net/pcs",
        // Filesystems for a root or data volume, the ESP, install media, and the jail modes' layers.
        "fs/ext4", "fs/btrfs", "fs/xfs", "fs/fat", "fs/exfat", "fs/isofs", "fs/udf", "fs/erofs", "fs/squashfs", "fs/overlayfs", "fs/f2fs", "fs/nls",
    ];

    /// <summary>
    /// Taken by name from a directory generic does not take whole: hid-generic drives every
    /// keyboard that follows the HID specification, which is every keyboard a person types a
    /// passphrase or a shell command on. The device-specific drivers beside it in drivers/hid
    /// (special keys, LEDs, force feedback, game controllers, sensors, tablets: 110 modules, about
    /// 0.8 MiB of a compressed image) add nothing to a boot; the OS loads them.
    /// </summary>
    public static readonly IReadOnlyList<string> GenericModules = ["hid", "hid_generic"];

    /// <summary>
    /// Left out of generic: classes of module under the generic directories that no machine
    /// boots through. Each is told by a module's name, its dependencies (modules.dep) or its
    /// description (.modinfo), so a new kernel's new drivers fall into their class with no list
    /// of drivers to keep. A machine that does boot through one is a known machine: profile
    /// host, or modules.include.
    /// </summary>
    public static readonly IReadOnlyList<LeftOutClass> LeftOutClasses =
    [
        new("storage reached over a network or fabric, and the targets that serve storage to others",
            Needs: ["scsi_transport_fc", "scsi_transport_iscsi", "libfc", "libiscsi", "cnic", "ib_core", "rdma_cm", "iw_cm", "nvme_fabrics", "libceph", "dlm", "drbd", "aoe", "nbd", "target_core_mod", "nvmet", "xen_blkback"]),
        new("hardware gone from machines that boot UEFI: parallel SCSI, 16-bit PC Card slots",
            Needs: ["scsi_transport_spi", "pcmcia_core"]),
        // Host too: a machine that still has a floppy controller (QEMU pc has one) boots its UKI
        // from UEFI, which boots no floppy; the OS loads the driver if a person wants the drive.
        new("the floppy drive: no UEFI firmware boots from it, it is slow to probe, and a controller that half answers hangs the probe",
            Needs: ["floppy"], ForHostToo: true),
        new("devices the kernel's own tests create (fake and failing disks)",
            Needs: ["scsi_debug", "null_blk", "faulty", "dm_flakey", "dm_delay", "dm_log_writes", "dm_dust"]),
        new("SCSI peripherals no root is on (tape, changers, enclosures, the generic SCSI node)",
            Needs: ["st", "ch", "enclosure", "sg"]),
        new("SR-IOV virtual functions: a slice of a host's NIC given to a VM, which boots from its virtual disk",
            DescriptionContains: "Virtual Function"),
        new("Ethernet drivers over 1 MiB: the 25-100 GbE data-plane adapters (mlx5, ice, i40e, bnx2x, qed, cxgb4, nfp on Debian 12's kernel)",
            LargerThan: LargestEthernetDriver, Under: "kernel/drivers/net/ethernet/"),
    ];

    /// <summary>Ethernet drivers bigger than this (uncompressed) are data-plane adapters: the OS loads them.</summary>
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
            ModuleProfile.Host => Host(index, moduleDirectory, inventory ?? HardwareInventory.Take()),
            _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "unknown profile"),
        };
    }

    private static IEnumerable<string> Generic(ModuleIndex index, string moduleDirectory)
    {
        var candidates = InGenericDirectories(index)
            .Where(f => !f.Value.StartsWith("kernel/fs/nls/", StringComparison.Ordinal) || DefaultCodePages.Contains(f.Key))
            .ToList();
        var leftOut = candidates
            .Where(f => LeftOutClasses.Any(c => c.Holds(f.Key, Path.Combine(moduleDirectory, f.Value), f.Value)))
            .Select(f => f.Key)
            .Concat(LeftOutClasses.SelectMany(c => c.Needs ?? []).Select(ModuleIndex.NormalizeName))
            .ToHashSet(StringComparer.Ordinal);
        return candidates
            .Select(f => f.Key)
            // A module that needs a left-out one would bring it back as a dependency: it stays out too.
            .Where(m => !leftOut.Contains(m) && !index.LoadOrder(m, includeSoft: false).Any(leftOut.Contains))
            .Order(StringComparer.Ordinal);
    }

    /// <summary>The bus of a device's modalias (before its first ':'): a module with an alias on one of these drives hardware.</summary>
    public static readonly IReadOnlySet<string> DeviceBuses = new HashSet<string>(StringComparer.Ordinal)
    {
        "pci", "usb", "virtio", "acpi", "of", "platform", "scsi", "mmc", "sdio", "hid", "serio", "pnp", "vmbus", "xen",
        "i2c", "spi", "input", "dmi", "mdio", "pcmcia", "ieee1394", "cpu",
    };

    /// <summary>
    /// What profile host leaves out of modules.include: the device drivers in it (modules with a
    /// device modalias) that no device of the inventory matches and the machine has not loaded,
    /// like dracut's host-only mode. The rest of include stays whatever the hardware, since the
    /// config's features need it: filesystems, overlay, loop, bridge, veth, tun.
    /// </summary>
    public static IReadOnlyList<string> HostLeavesOut(ModuleIndex index, IEnumerable<string> include, HardwareInventory inventory)
    {
        var present = inventory.Modaliases.SelectMany(index.MatchAlias)
            .Concat(inventory.Modules.Select(ModuleIndex.NormalizeName))
            .ToHashSet(StringComparer.Ordinal);
        var drivers = index.Aliases.Where(a => DeviceBuses.Contains(a.Pattern.Split(':')[0])).Select(a => a.Module).ToHashSet(StringComparer.Ordinal);
        return include.Select(ModuleIndex.NormalizeName)
            .Where(m => drivers.Contains(m) && !present.Contains(m))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
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
        index.Files.Where(f => GenericModules.Contains(f.Key) || GenericDirectories.Any(d => f.Value.StartsWith("kernel/" + d + "/", StringComparison.Ordinal)));

    /// <summary>
    /// The generic modules this machine's devices match, its loaded ones, and its mounted
    /// filesystems' modules; not those of a class left out for host too (the floppy drive).
    /// </summary>
    private static List<string> Host(ModuleIndex index, string moduleDirectory, HardwareInventory inventory)
    {
        // What the machine has decides here, so its big NIC or its SAN adapter comes along.
        var generic = InGenericDirectories(index).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var wanted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var module in inventory.Modaliases.SelectMany(index.MatchAlias).Concat(inventory.Modules.Select(ModuleIndex.NormalizeName)))
        {
            if (generic.TryGetValue(module, out var relative)
                && !LeftOutClasses.Any(c => c.ForHostToo && c.Holds(module, Path.Combine(moduleDirectory, relative), relative)))
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

/// <summary>
/// A class of module generic leaves out, with why: the modules named in <paramref name="Needs"/>
/// (and, through the dependency check, every module that needs one), those whose .modinfo
/// description contains <paramref name="DescriptionContains"/>, and those under
/// <paramref name="Under"/> larger than <paramref name="LargerThan"/> bytes. Profile host
/// packs what a machine has, but not a class <paramref name="ForHostToo"/> marks.
/// </summary>
public sealed record LeftOutClass(string Why, IReadOnlyList<string>? Needs = null, string? DescriptionContains = null, long LargerThan = 0, string Under = "", bool ForHostToo = false)
{
    /// <summary>Whether the module itself (by name, description or size) is of this class.</summary>
    public bool Holds(string module, string file, string relativePath)
    {
        if (Needs is not null && Needs.Select(ModuleIndex.NormalizeName).Contains(module))
        {
            return true;
        }
        if (DescriptionContains is not null && ModuleInfo.Values(file, "description").Any(d => d.Contains(DescriptionContains, StringComparison.Ordinal)))
        {
            return true;
        }
        return LargerThan > 0 && relativePath.StartsWith(Under, StringComparison.Ordinal) && new FileInfo(file).Length > LargerThan;
    }
}

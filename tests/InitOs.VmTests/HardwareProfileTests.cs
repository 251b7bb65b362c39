using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using InitOs.ImageBuild.Initramfs;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The generic module profile, as a physical machine gets it: one initramfs (every storage,
/// USB, MMC, keyboard and Ethernet driver by kernel directory, the firmware they declare, CPU
/// microcode in an early cpio; Debian's firmware packages from `make firmware`), shared by a
/// boot per disk controller QEMU emulates: the root is found behind each and the OS comes up.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class HardwareProfileTests
{
    private const string Config = """
        mode = "switch_root"
        on_failure = "poweroff"

        [root]
        device = "LABEL=initos-root"
        wait_seconds = 60

        [modules]
        profile = "generic"
        load = []
        coldplug = true
        """;

    private readonly BootImages _images;

    public HardwareProfileTests(BootImages images) => _images = images;

    private string Generic() =>
        _images.InitramfsWith("generic", Config + "\n", configProfile: true, firmwareDirectory: RepoPaths.Require(RepoPaths.FirmwareDirectory, "make firmware"));

    [Fact]
    public void The_generic_profile_packs_each_boot_path_by_kernel_directory_with_firmware_and_microcode_in_front()
    {
        var config = _images.Scratch("generic-report.toml");
        File.WriteAllText(config, Config + "\n");
        var report = InitramfsBuilder.Build(new InitramfsSpec
        {
            BoxBinary = RepoPaths.Box,
            KernelDirectory = RepoPaths.KernelDirectory,
            ConfigFile = config,
            FirmwareDirectory = RepoPaths.FirmwareDirectory,
            Compression = ImageBuild.Cpio.Compression.Zstd,
            ZstdLevel = 3,
        }, _images.Scratch("generic-report.img"));

        Assert.Equal("generic", report.Profile);
        foreach (var module in new[] { "ahci", "ata_piix", "nvme", "megaraid_sas", "mpt3sas", "virtio_scsi", "xhci_pci", "ehci_pci", "usb_storage", "uas", "sdhci_pci", "mmc_block", "usbhid", "hid_generic", "e1000e", "igb", "ixgbe", "r8169", "8139cp", "ext4", "btrfs", "xfs", "vfat", "nls_cp437", "dm_mod", "raid1" })
        {
            Assert.Contains(module, report.Modules);
        }
        // Not boot paths (sound, graphics, wireless), and the classes generic leaves out: HID extras,
        // PC Card, kernel test devices, tape and enclosures, SR-IOV VFs, network storage.
        foreach (var module in new[] { "snd_hda_intel", "i915", "amdgpu", "iwlwifi", "bluetooth", "hid_logitech_dj", "hid_sony", "pcmcia", "b44", "scsi_debug", "null_blk", "st", "ses", "ixgbevf", "iavf", "aoe", "nbd", "cnic", "mlx5_core", "floppy" })
        {
            Assert.DoesNotContain(module, report.Modules);
        }
        Assert.Contains(report.Firmware, f => f.StartsWith("rtl_nic/rtl8168", StringComparison.Ordinal));
        Assert.True(report.FirmwareMissing > 0, "most declared firmware is in packages this machine does not have");

        var image = File.ReadAllBytes(report.Output);
        var early = ReadNewc(image, out int end);
        Assert.Equal(["kernel", "kernel/x86", "kernel/x86/microcode", Microcode.AmdPath, Microcode.IntelPath], early.Keys);
        var intel = Directory.GetFiles(Path.Combine(RepoPaths.FirmwareDirectory, "intel-ucode"));
        var first = intel.Where(f => Path.GetFileName(f).Length == 8).Order(StringComparer.Ordinal).First();
        Assert.Equal(File.ReadAllBytes(first), early[Microcode.IntelPath].AsSpan(0, (int)new FileInfo(first).Length).ToArray());
        Assert.Equal(report.Microcode.Single(m => m.Path == Microcode.IntelPath).Content, early[Microcode.IntelPath]);
        // The compressed archive starts at the next 512-byte boundary, after zeros.
        int compressed = (end + 511) / 512 * 512;
        Assert.All(image.AsSpan(end, compressed - end).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(compressed)));

        // What mounts the store is a file of the archive; the rest (this config lists no module) is in the store.
        var main = _images.Scratch("generic-report.cpio");
        File.WriteAllBytes(main + ".zst", image.AsSpan(compressed).ToArray());
        Tool.Run("zstd", "-d", "-f", "-q", main + ".zst", "-o", main);
        var files = ReadNewc(File.ReadAllBytes(main), out _);
        var modules = $"lib/modules/{Path.GetFileName(Directory.GetDirectories(Path.Combine(RepoPaths.KernelDirectory, "lib/modules")).Single())}/";
        Assert.Contains(modules + "kernel/fs/squashfs/squashfs.ko", files.Keys);
        Assert.Contains(modules + "kernel/drivers/block/loop.ko", files.Keys);
        Assert.DoesNotContain(modules + "kernel/drivers/ata/ata_piix.ko", files.Keys);
        var store = _images.Scratch("generic-report.sqfs");
        File.WriteAllBytes(store, files[modules + "modules.sqfs"]);
        var listing = Tool.Run("unsquashfs", "-l", "-d", "", store);
        Assert.Contains("/kernel/drivers/ata/ata_piix.ko", listing, StringComparison.Ordinal);
        Assert.Contains("/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko", listing, StringComparison.Ordinal);
        Assert.Contains("/kernel/drivers/block/virtio_blk.ko", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("/kernel/fs/squashfs/squashfs.ko", listing, StringComparison.Ordinal);
    }

    /// <summary>
    /// Profile host from an inventory taken on the target (`initos admin hardware --json`, read back
    /// as `--hardware FILE` does): that machine's drivers and filesystems, not the generic set.
    /// </summary>
    [Fact]
    public void The_host_profile_packs_what_the_targets_inventory_asks_for_and_nothing_generic()
    {
        var target = new InitOs.Init.Modules.HardwareInventory(
            "6.1.0-57-amd64",
            // An Intel 82574L NIC, QEMU's NVMe controller and a floppy controller, as sysfs names them.
            ["pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00", "pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02", "acpi:PNP0700:"],
            ["e1000e"],
            ["ext4", "xfs", "proc", "sysfs"]);
        var inventory = InitOs.Init.Modules.HardwareInventory.Parse(target.ToJson(), "target.json");
        var config = _images.Scratch("host-report.toml");
        // include's device drivers come only for the devices the inventory has; its other modules always.
        File.WriteAllText(config, "[modules]\nprofile = \"host\"\nload = []\ninclude = [\"nvme\", \"ahci\", \"virtio_net\", \"overlay\", \"tun\"]\n");
        var report = InitramfsBuilder.Build(new InitramfsSpec
        {
            BoxBinary = RepoPaths.Box,
            KernelDirectory = RepoPaths.KernelDirectory,
            ConfigFile = config,
            Hardware = inventory,
            Compression = ImageBuild.Cpio.Compression.Zstd,
            ZstdLevel = 3,
        }, _images.Scratch("host-report.img"));

        Assert.Equal("host", report.Profile);
        foreach (var module in new[] { "e1000e", "nvme", "ext4", "xfs", "overlay", "tun" })
        {
            Assert.Contains(module, report.Modules);
        }
        // The floppy drive is left out for host too: no UEFI firmware boots from it.
        foreach (var module in new[] { "igb", "r8169", "ahci", "virtio_net", "megaraid_sas", "usb_storage", "btrfs", "f2fs", "floppy" })
        {
            Assert.DoesNotContain(module, report.Modules);
        }
        Assert.Equal(["ahci", "virtio_net"], report.HostLeftOut);
    }

    public static TheoryData<string, string[]> Controllers => new()
    {
        { "nvme", ["-device", "nvme,drive=root,serial=initos"] },
        { "sata-ahci", ["-device", "ahci,id=ahci", "-device", "ide-hd,drive=root,bus=ahci.0"] },
        { "usb-storage-xhci", ["-device", "qemu-xhci,id=xhci", "-device", "usb-storage,drive=root,bus=xhci.0"] },
    };

    /// <summary>The rest of the sweep of device models, in `make slow-test` (`make test` boots the three above).</summary>
    public static TheoryData<string, string[]> MoreControllers => new()
    {
        { "virtio-scsi", ["-device", "virtio-scsi-pci,id=scsi", "-device", "scsi-hd,drive=root,bus=scsi.0"] },
        { "megaraid-sas", ["-device", "megasas-gen2,id=raid", "-device", "scsi-hd,drive=root,bus=raid.0"] },
        { "legacy-ide", ["-device", "ide-hd,drive=root,bus=ide.0"] },
        { "sd-card", ["-device", "sdhci-pci", "-device", "sd-card,drive=root"] },
    };

    /// <summary>The root disk behind one controller: coldplug loads its driver from the generic set, and the OS comes up.</summary>
    [Theory]
    [MemberData(nameof(Controllers))]
    public void The_root_is_found_behind(string controller, string[] device) => BootBehind(controller, device);

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(MoreControllers))]
    public void The_root_is_also_found_behind(string controller, string[] device) => BootBehind(controller, device);

    private void BootBehind(string controller, string[] device)
    {
        var disk = _images.CopyOfRootfs($"hardware-{controller}.img");
        if (controller == "sd-card")
        {
            // An SD card's size is a power of two.
            using var file = new FileStream(disk, FileMode.Open, FileAccess.Write);
            file.SetLength(32L << 20);
        }
        using var vm = new VmBoot($"{nameof(HardwareProfileTests)}-{controller}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = Generic(),
            Append = "console=ttyS0 panic=-1 quiet",
            ExtraArguments = ["-drive", $"file={disk},format=raw,if=none,id=root", .. device],
            MemoryMiB = 768,
        });
        // The early cpio's microcode reached the kernel before it unpacked the rest; PID 1 frees its copy.
        vm.Expect(@"firmware: CPU microcode was offered to the kernel early; its \d+ KiB copy in the initramfs freed");
        // The controller's driver is not in the config's lists: it comes from the store.
        vm.Expect(@"modules: the store /lib/modules/\S+/modules.sqfs \(\d+ KiB\) mounted from /dev/loop\d+");
        vm.Expect(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4", TimeSpan.FromSeconds(180));
    }

    /// <summary>
    /// An initramfs without the controller's driver (profile explicit): the error names the
    /// device's modalias and the driver left out, the modules loaded, and how to get a shell.
    /// </summary>
    [Fact]
    public void A_root_behind_a_controller_whose_driver_was_left_out_names_the_driver()
    {
        var disk = _images.CopyOfRootfs("hardware-missing-driver.img");
        var initramfs = _images.InitramfsWith("explicit-short-wait", """
            mode = "switch_root"
            on_failure = "poweroff"

            [root]
            device = "LABEL=initos-root"
            wait_seconds = 3

            [modules]
            profile = "explicit"
            load = []
            coldplug = true
            """ + "\n");
        using var vm = new VmBoot($"{nameof(HardwareProfileTests)}-missing-driver", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Append = "console=ttyS0 panic=-1 quiet",
            ExtraArguments = ["-drive", $"file={disk},format=raw,if=none,id=root", "-device", "megasas-gen2,id=raid", "-device", "scsi-hd,drive=root,bus=raid.0"],
        });
        vm.Expect(@"root device LABEL=initos-root not found after 3 s; block devices seen: none; no driver in this initramfs for [^;]*megaraid_sas \(pci:v00001000d0000007[89]…\)");
        vm.ExpectExit();
    }

    /// <summary>
    /// The admin door through a physical NIC's driver from the generic set: DHCP on it, then an
    /// admin's ssh `status` (Intel 82574L: e1000e; Realtek RTL8139: 8139cp).
    /// </summary>
    [Theory]
    [InlineData("e1000e", "e1000e")]
    [InlineData("rtl8139", "8139cp")]
    public void The_admin_door_answers_through(string nic, string driver)
    {
        var key = _images.Scratch("hardware-admin");
        if (!File.Exists(key))
        {
            SidecarSshBootTests.NewKey(key);
        }
        var initramfs = _images.InitramfsWith("generic-door", $$"""
            mode = "initramfs"
            on_failure = "poweroff"

            [modules]
            profile = "generic"
            load = []
            coldplug = true

            """ + GuestConfig.DhcpAndSidecar(key + ".pub"), configProfile: true, firmwareDirectory: RepoPaths.FirmwareDirectory);
        int port = SidecarSshBootTests.FreePort();
        using var keys = new TempDirectory("initos-hardware-keys-");
        using var vm = new VmBoot($"{nameof(HardwareProfileTests)}-{nic}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Append = "console=ttyS0 panic=-1 quiet",
            Network = true,
            NicModel = nic,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
        });
        vm.Expect($@"coldplug loaded \d+ modules: .*\b{driver}\b");
        var client = new InitOs.Admin.AdminClient(key, new InitOs.Admin.KnownHosts(keys.File("known_hosts")), TimeSpan.FromSeconds(60));
        var status = AdminSessions.RunWhenUp(client, new InitOs.Admin.AdminTarget("127.0.0.1", port), "status");
        Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
        Assert.Contains("mode:     initramfs", status.Output, StringComparison.Ordinal);

        // The inventory for profile host, taken on this machine through the door: its NIC and driver are in it.
        var taken = client.Run(new InitOs.Admin.AdminTarget("127.0.0.1", port), "hardware --json");
        Assert.True(taken.Succeeded, $"{taken.ExitCode}: {taken.Error}");
        var inventory = InitOs.Init.Modules.HardwareInventory.Parse(taken.Output, "the door's answer");
        Assert.Contains(driver, inventory.Modules);
        Assert.Contains(inventory.Modaliases, a => a.StartsWith(nic == "e1000e" ? "pci:v00008086d000010D3" : "pci:v000010ECd00008139", StringComparison.Ordinal));
    }

    /// <summary>The newc entries of the uncompressed archive at the start of <paramref name="image"/>, up to its trailer; <paramref name="end"/> is where it ends.</summary>
    private static Dictionary<string, byte[]> ReadNewc(byte[] image, out int end)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int at = 0;
        while (true)
        {
            Assert.Equal("070701", Encoding.ASCII.GetString(image, at, 6));
            int Field(int index) => int.Parse(Encoding.ASCII.GetString(image, at + 6 + index * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            int size = Field(6), nameSize = Field(11);
            var name = Encoding.ASCII.GetString(image, at + 110, nameSize - 1);
            int data = (at + 110 + nameSize + 3) & ~3;
            at = (data + size + 3) & ~3;
            if (name == "TRAILER!!!")
            {
                end = at;
                return entries;
            }
            entries[name] = image.AsSpan(data, size).ToArray();
        }
    }
}

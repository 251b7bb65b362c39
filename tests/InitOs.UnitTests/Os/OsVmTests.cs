using InitOs.Init.Config;
using InitOs.Init.Supervision;
using InitOs.Os;
using InitOs.Jails.Vm;

namespace InitOs.UnitTests.Os;

public sealed class OsVmTests
{
    private static VmSpec Spec(bool? microvm = null, bool kvm = false) => new()
    {
        Qemu = "/kit/qemu/qemu-system-x86_64",
        LibraryDirectory = "/kit/qemu/lib",
        FirmwareDirectory = "/kit/qemu/firmware",
        ModuleDirectory = "/kit/qemu/modules",
        TemporaryDirectory = "/kit/scratch",
        Kernel = "/kit/kernel",
        Initrd = "/kit/initrd.img",
        Disk = "/run/initos/data/images/os.img",
        Snapshot = true,
        Tap = "vt01234567",
        Serial = "/dev/pts/3",
        QmpSocket = "/run/initos/os/qmp.sock",
        Microvm = microvm,
        Kvm = kvm,
    };

    [Fact]
    public void A_kit_runs_qemu_under_its_own_loader_with_its_firmware_modules_and_a_snapshot_disk()
    {
        var spec = Spec();
        var args = VmCommand.Arguments(spec);
        Assert.Equal("/kit/qemu/lib/ld-linux-x86-64.so.2", QemuBinary.Of(spec).Executable);
        Assert.Equal(["ld-linux-x86-64.so.2", "--library-path", "/kit/qemu/lib", "/kit/qemu/qemu-system-x86_64", "-L", "/kit/qemu/firmware"], args.Take(6));
        Assert.Contains("file=/run/initos/data/images/os.img,format=raw,if=none,id=os,snapshot=on", args);
        Assert.Contains("tap,id=net,ifname=vt01234567,script=no,downscript=no", args);
        Assert.Contains("/dev/pts/3", args);
        Assert.Contains("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", args);
        Assert.Contains("QEMU_MODULE_DIR=/kit/qemu/modules", QemuBinary.Of(spec).Environment);
        Assert.Contains("TMPDIR=/kit/scratch", QemuBinary.Of(spec).Environment);
    }

    [Theory]
    [InlineData(null, false, "pc,accel=tcg", "virtio-blk-pci,drive=os")]
    [InlineData(null, true, "microvm,accel=kvm", "virtio-blk-device,drive=os")]
    [InlineData(true, false, "microvm,accel=tcg", "virtio-blk-device,drive=os")]
    [InlineData(false, true, "pc,accel=kvm", "virtio-blk-pci,drive=os")]
    public void The_machine_is_microvm_under_kvm_and_pc_under_tcg_unless_chosen(bool? microvm, bool kvm, string machine, string disk)
    {
        var args = VmCommand.Arguments(Spec(microvm, kvm));
        Assert.Contains(machine, args);
        Assert.Contains(disk, args);
    }

    [Fact]
    public void The_guests_ends_map_through_the_os_table_like_a_jails()
    {
        var defaults = new OsConfig();
        Assert.Null(OsEnds.HostFollows(defaults, OsEnd.Reboot));
        Assert.Equal(ShutdownKind.PowerOff, OsEnds.HostFollows(defaults, OsEnd.PowerOff));
        Assert.Null(OsEnds.HostFollows(defaults, OsEnd.Crash));
        var configured = defaults with { OnReboot = OsExitAction.Reboot, OnPowerOff = OsExitAction.Restart };
        Assert.Equal(ShutdownKind.Reboot, OsEnds.HostFollows(configured, OsEnd.Reboot));
        Assert.Null(OsEnds.HostFollows(configured, OsEnd.PowerOff));
    }

    [Fact]
    public void The_vm_table_reads()
    {
        var config = ConfigLoader.Parse("mode = \"vm\"\n[vm]\nkit = \"kits/vm1\"\nmachine = \"microvm\"\nmemory_mib = 1024\ncpus = 2\naccel = \"tcg\"\nappend = \"loglevel=7\"\n", "initos.toml");
        Assert.Equal(BootMode.Vm, config.Mode);
        Assert.Equal(new VmConfig { Kit = "kits/vm1", Machine = "microvm", MemoryMiB = 1024, Cpus = 2, Accel = "tcg", Append = "loglevel=7" }, config.Vm);
    }

    [Theory]
    [InlineData("kit = \"../outside\"", "vm.kit: \"../outside\" must be a directory inside the data volume")]
    [InlineData("machine = \"q35\"", "vm.machine: \"q35\" is not one of auto, microvm, pc")]
    [InlineData("accel = \"hvf\"", "vm.accel: \"hvf\" is not one of auto, kvm, tcg")]
    [InlineData("memory_mib = 16", "vm.memory_mib")]
    public void A_bad_vm_table_names_file_line_and_key(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[vm]\n{line}\n", "initos.toml"));
        Assert.Contains("initos.toml:2: " + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_kit_needs_the_firmware_of_the_machine_it_may_run()
    {
        Assert.Contains("qemu/firmware/bios-microvm.bin", VmKitLayout.Required("microvm"));
        Assert.DoesNotContain("qemu/firmware/bios-256k.bin", VmKitLayout.Required("microvm"));
        Assert.Contains("qemu/firmware/bios-256k.bin", VmKitLayout.Required("pc"));
        Assert.Contains("qemu/firmware/bios-microvm.bin", VmKitLayout.Required("auto"));
        Assert.Contains("qemu/firmware/bios-256k.bin", VmKitLayout.Required("auto"));
        Assert.Contains("qemu/lib/ld-linux-x86-64.so.2", VmKitLayout.Required("auto"));
    }

    /// <summary>The guest's "exec INIT" line, however the console chunks split it, marks the current start; a new start clears the mark.</summary>
    [Fact]
    public void The_guests_exec_line_marks_its_start_even_split_across_chunks_and_a_new_start_clears_it()
    {
        using var dir = new InitOs.TestKit.TempDirectory("initos-guest-up-");
        var path = dir.File("guest-up");
        int start = 3;
        var marker = new GuestUpMarker(() => start, path);
        marker.Scan("[    2.100] initos: mounting /dev/vda\r\n[    2.2"u8);
        Assert.Null(GuestUpMarker.Read(path));
        marker.Scan("00] initos: ex"u8);
        marker.Scan("ec /sbin/init on /dev/vda (ext4)\r\n"u8);
        Assert.Equal(3, GuestUpMarker.Read(path));

        start = 4;
        marker.Reset();
        Assert.Null(GuestUpMarker.Read(path));
        marker.Scan("]] initos: exec: not this one; ] initos: exec /sbin/init"u8);
        Assert.Equal(4, GuestUpMarker.Read(path));
    }
}

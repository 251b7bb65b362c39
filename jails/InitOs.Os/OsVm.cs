using System.Net;
using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Init.Supervision;
using InitOs.Jails.Network;
using InitOs.Jails.Vm;
using InitOs.Jails.Vm.Kvm;
using InitOs.Sidecar.Upgrades;
using InitOs.Sys;

namespace InitOs.Os;

/// <summary>
/// Mode vm: the real OS boots in QEMU, and the host's hardware stays with InitOS. At boot the
/// "vm" phase finds the VM kit on the data volume (QEMU, its libraries and firmware, the guest's
/// kernel and initramfs), runs only a verified copy of its host files (<see cref="VmKitCopy"/>),
/// and finds the OS's disk (an image under images/, or the root device itself),
/// and opens the OS's console. PID 1 then supervises QEMU as the service "os": each start puts
/// a TAP on the host bridge and boots the disk (its writes dropped at the end unless
/// [os] keep_upper); QMP says how the guest ended, and [os] what the host does then.
/// </summary>
public sealed class OsVm
{
    private const string StateDirectory = OsJail.StateDirectory;

    private BootLog _log = BootLog.Instance;
    private OsConfig _config = new();
    private VmSpec? _spec;
    private string _guestRoot = "/dev/vda";
    private string _guestAppend = "";
    private OsConsole? _console;
    private JailNetwork? _network;
    private VmMachine? _running;
    private int _starts;
    private StagedOsImages? _staged;
    private GuestUpMarker? _guestUp;

    public static bool InVm(BootContext context) => context.RequireSettings().Mode == BootMode.Vm;

    public Phase Phase => new("vm",
    [
        new("load-vm-modules", LoadModules),
        new("find-vm-kit", FindKit),
        new("find-os-disk", FindDisk),
        new("choose-accel", ChooseAccelerator),
        new("open-os-console", OpenConsole),
    ], InVm);

    /// <summary>The bridge and TAP devices for the guest's NIC; KVM when the CPU has it and the initramfs packs it.</summary>
    private static void LoadModules(BootContext context)
    {
        if (context.RequireSettings().Os.Network == "bridge")
        {
            OsEnds.LoadModules(context, ["bridge", "tun"], "the VM's network");
        }
        var cpu = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var kvm = cpu.Contains(" vmx", StringComparison.Ordinal) ? "kvm_intel" : cpu.Contains(" svm", StringComparison.Ordinal) ? "kvm_amd" : null;
        if (kvm is not null && context.ModuleIndex is { } index && index.Contains(kvm) && context.Modules is { } modules)
        {
            try
            {
                modules.Load(kvm);
            }
            catch (Exception e) when (e is SysException or IOException or InvalidOperationException)
            {
                context.Log.Warn($"os: {kvm} did not load ({e.Message}); the VM runs under TCG");
            }
        }
    }

    /// <summary>Everything the kit must hold, checked at once: the error lists what is missing and where.</summary>
    private void FindKit(BootContext context)
    {
        _log = context.Log;
        var settings = context.RequireSettings();
        _config = settings.Os;
        var vm = settings.Vm;
        if (settings.Data is null)
        {
            throw new BootException($"mode vm runs QEMU from the VM kit on the data volume ({vm.Kit}/), and there is none ([data] device or initos.data=)");
        }
        if (_config.Network == "host")
        {
            throw new BootException("os.network = \"host\" cannot work in mode vm (the guest has its own kernel): use \"bridge\" or \"none\"");
        }
        var kit = Path.Combine(DataConfig.MountPoint, vm.Kit);
        var missing = VmKitLayout.Required(vm.Machine).Where(f => !File.Exists(Path.Combine(kit, f))).ToList();
        if (missing.Count > 0)
        {
            var seen = Directory.Exists(kit) ? string.Join(", ", Directory.EnumerateFileSystemEntries(kit).Select(Path.GetFileName).Order(StringComparer.Ordinal)) : "no such directory";
            throw new BootException($"the VM kit {kit} lacks {string.Join(", ", missing)} (it has: {(seen.Length == 0 ? "nothing" : seen)}); stage it with `initos build data --vm-kit`");
        }
        var copy = VmKitCopy.Make(kit, VmKitLayout.DigestFile, VmKitCopy.RunDirectory);
        context.Log.Info($"os: VM kit verified against {VmKitLayout.DigestFile}: {copy.Files} files, {copy.Bytes >> 20} MiB copied to {VmKitCopy.RunDirectory}");
        var verified = VmKitCopy.RunDirectory;
        var scratch = Path.Combine(kit, VmKitLayout.Scratch);
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }
        Directory.CreateDirectory(scratch);
        _spec = new VmSpec
        {
            Qemu = Path.Combine(verified, VmKitLayout.Qemu),
            LibraryDirectory = Path.Combine(verified, VmKitLayout.Libraries),
            FirmwareDirectory = Path.Combine(verified, VmKitLayout.Firmware),
            ModuleDirectory = Path.Combine(verified, VmKitLayout.Modules),
            TemporaryDirectory = scratch,
            Kernel = Path.Combine(kit, VmKitLayout.Kernel),
            Initrd = Path.Combine(kit, VmKitLayout.Initrd),
            Disk = "",
            Snapshot = !_config.KeepUpper,
            Microvm = vm.Machine switch { "microvm" => true, "pc" => false, _ => null },
            MemoryMiB = vm.MemoryMiB,
            Cpus = vm.Cpus,
            Kvm = vm.Accel switch { "kvm" => true, "tcg" => false, _ => null },
            QmpSocket = Path.Combine(StateDirectory, "qmp.sock"),
        };
        _guestAppend = vm.Append;
        context.Log.Info($"os: VM kit {kit}: {vm.Machine}, {vm.MemoryMiB} MiB, {vm.Cpus} CPU(s), accel {vm.Accel}");
    }

    /// <summary>
    /// An image file under images/ (os.image), or the root device as the host found it. With
    /// upgrades on and images staged from bundles (the pointer images/NAME.current), the disk is
    /// chosen, and proven, at each start instead (<see cref="ChooseDisk"/>).
    /// </summary>
    private void FindDisk(BootContext context)
    {
        var settings = context.RequireSettings();
        string disk;
        if (_config.Image is { } name && settings.Upgrade.Enabled)
        {
            var upgrade = settings.Upgrade;
            _staged = new StagedOsImages(context, OsImageStore.OnDataVolume(name), new TrustPolicy(upgrade.Keys, upgrade.Compatible, upgrade.MinVersion), upgrade.Version!);
        }
        if (_staged is { HasPointer: true })
        {
            _guestRoot = "/dev/vda";
            context.Log.Info($"os: the VM's disk from the pointer images/{_config.Image}{OsImageStore.PointerSuffix}: chosen and proven at each start, its writes dropped");
            return;
        }
        if (_config.Image is { } name2)
        {
            disk = Path.Combine(DataConfig.MountPoint, "images", name2);
            if (Directory.Exists(disk))
            {
                throw new BootException($"os.image: {disk} is a directory (a jail mode's image); mode vm boots a disk image file");
            }
            if (!File.Exists(disk))
            {
                var images = Path.GetDirectoryName(disk)!;
                var seen = Directory.Exists(images) ? string.Join(", ", Directory.EnumerateFileSystemEntries(images).Select(Path.GetFileName)) : "no images/ directory";
                throw new BootException($"os.image: no disk image {disk} on the data volume (images there: {(seen.Length == 0 ? "none" : seen)})");
            }
            _guestRoot = "/dev/vda";
        }
        else
        {
            var device = context.RootDevice ?? throw new BootException("mode vm without os.image boots the root device, and none was found");
            disk = device.DevicePath;
            // The spec that found the device on the host finds the same bytes in the guest.
            _guestRoot = settings.Root ?? "/dev/vda";
        }
        _spec = (_spec ?? throw new InvalidOperationException("find-vm-kit did not run")) with { Disk = disk };
        context.Log.Info($"os: the VM boots {disk} as its virtio disk (root={_guestRoot}), {(_config.KeepUpper ? "its writes kept" : "its writes dropped at every end")}");
    }

    /// <summary>KVM only when a probe guest really ran under it ([vm] accel = "auto"); the log says why.</summary>
    private void ChooseAccelerator(BootContext context)
    {
        var spec = _spec ?? throw new InvalidOperationException("find-vm-kit did not run");
        var request = spec.Kvm switch { true => AccelRequest.Kvm, false => AccelRequest.Tcg, null => AccelRequest.Auto };
        var verdict = Accelerator.Choose(request, QemuBinary.Of(spec), "/run/initos/accel");
        context.Log.Info("os: " + verdict.Reason);
        _spec = spec with { Kvm = verdict.Kvm };
    }

    private void OpenConsole(BootContext context)
    {
        _console = OsConsole.OpenForOs(context, Path.Combine(StateDirectory, "console.log"));
        _guestUp = new GuestUpMarker(() => Volatile.Read(ref _starts));
        _console.Watch = _guestUp.Scan;
        _spec = _spec! with { Serial = _console.SlavePath };
    }

    /// <summary>
    /// This start's disk when images come from bundles: the pointer's trial (a start spent) or
    /// good version, proven, booted with its writes dropped so the file stays as signed; or,
    /// with no good version yet, images/NAME. Written to /run/initos/os/image for the judge.
    /// </summary>
    private VmSpec ChooseDisk(VmSpec spec)
    {
        if (_staged is not { HasPointer: true } staged)
        {
            OsJail.WriteRunning(_config.Image ?? "root");
            return spec;
        }
        if (staged.TakeFile() is { } image)
        {
            OsJail.WriteRunning(image.Label);
            _log.Info($"os: start {_starts} boots {image.Label} ({image.FsType}, {image.Digest[..19]}…, signed by {Init.Config.PublicKeys.Fingerprint(image.Key)}), proven");
            return spec with { Disk = image.Path, Snapshot = true };
        }
        var name = _config.Image!;
        var disk = Path.Combine(DataConfig.MountPoint, "images", name);
        if (!File.Exists(disk))
        {
            throw new BootException($"os.image: the pointer names no good version and there is no disk image {disk} to fall back on");
        }
        OsJail.WriteRunning(name);
        return spec with { Disk = disk, Snapshot = !_config.KeepUpper };
    }

    /// <summary>QEMU as PID 1 supervises it; the host's shutdown presses the guest's power button first.</summary>
    public ServiceSpec Service() => new()
    {
        Name = OsJail.ServiceName,
        Command = [_spec?.Qemu ?? "qemu-system-x86_64"],
        Restart = RestartPolicy.Always,
        Start = Start,
        AfterExit = Ended,
        HostFollows = exit => OsEnds.HostFollows(_config, EndOf(exit)),
        StopRequest = ("asked the VM to power down (ACPI power button)", () => _running?.PowerDown()),
        StopSignal = Signal.Term,
        StopGraceSeconds = _config.StopGraceSeconds,
        SignalGroup = false,
    };

    private int Start()
    {
        var spec = _spec ?? throw new InvalidOperationException("the os phase did not run");
        Interlocked.Increment(ref _starts);
        _guestUp?.Reset();
        spec = ChooseDisk(spec);
        string ip = "off";
        if (_config.Network == "bridge")
        {
            _network ??= new JailNetwork(new JailNetworkConfig(), "/run/initos/net");
            var (tap, address) = _network.AttachTap(OsJail.ServiceName);
            spec = spec with { Tap = tap };
            ip = GuestAddress(address, _network.Config);
        }
        spec = spec with { Append = $"console=ttyS0 panic=-1 quiet initos.mode=switch_root root={_guestRoot} ip={ip} {SettingsBuilder.VmStartsKey}={_starts} {_guestAppend}".TrimEnd() };
        try
        {
            _running = VmMachine.Start(spec, _log.Info);
        }
        catch
        {
            _network?.DetachTap(OsJail.ServiceName);
            throw;
        }
        _log.Info($"os: start {_starts}: QEMU pid {_running.Pid} ({(_running.Kvm ? "KVM" : "TCG")}, {((spec.Microvm ?? _running.Kvm) ? "microvm" : "pc")}) boots {spec.Disk}{(spec.Tap is null ? "" : $", NIC on {spec.Tap}")}");
        return _running.Pid;
    }

    /// <summary>The kernel's ip= form that InitOS's initramfs in the guest reads: CLIENT::GATEWAY:NETMASK::eth0:off.</summary>
    private static string GuestAddress(IPAddress address, JailNetworkConfig network)
    {
        uint mask = network.PrefixLength == 0 ? 0 : uint.MaxValue << (32 - network.PrefixLength);
        var netmask = new IPAddress(BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(mask) : mask);
        return $"{address}::{network.Gateway}:{netmask}::eth0:off";
    }

    /// <summary>QEMU's SHUTDOWN event, read by the QMP thread just before QEMU ended: give it a moment to be recorded.</summary>
    private OsEnd EndOf(ChildExit exit)
    {
        var machine = _running;
        if (machine is null)
        {
            return OsEnd.Crash;
        }
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (machine.End == VmEnd.Unknown && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        return machine.End switch
        {
            VmEnd.GuestReboot => OsEnd.Reboot,
            VmEnd.GuestPowerOff => OsEnd.PowerOff,
            _ => OsEnd.Crash,
        };
    }

    /// <summary>After every end: the QMP connection and the TAP go (the snapshot file went with QEMU).</summary>
    private void Ended(ChildExit exit)
    {
        _log.Info($"os: {OsEnds.Describe(EndOf(exit))} (QEMU {exit}, {_running?.End.ToString() ?? "no"} shutdown event)");
        _running?.Dispose();
        _network?.DetachTap(OsJail.ServiceName);
    }
}

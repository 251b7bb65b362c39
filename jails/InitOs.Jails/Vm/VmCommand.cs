namespace InitOs.Jails.Vm;

/// <summary>The QEMU command line of a <see cref="VmSpec"/>.</summary>
public static class VmCommand
{
    public static bool KvmUsable()
    {
        try
        {
            using var kvm = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static IReadOnlyList<string> Arguments(VmSpec spec)
    {
        bool kvm = spec.Kvm ?? KvmUsable();
        var args = new List<string>
        {
            Path.GetFileName(spec.Qemu),
            "-machine", (spec.Microvm ? "microvm" : "pc") + (kvm ? ",accel=kvm" : ",accel=tcg"),
            "-cpu", kvm ? "host" : "max",
            "-m", spec.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", spec.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-kernel", spec.Kernel,
            "-append", spec.Append,
            "-display", "none", "-monitor", "none", "-nodefaults",
            // A guest reboot ends QEMU; QMP says which it was, and the supervisor decides.
            "-no-reboot",
            "-qmp", $"unix:{spec.QmpSocket},server=on,wait=off",
            // A /dev path is a host terminal (QEMU's "-serial /dev/XXX"), anything else a log file.
            "-serial", spec.Serial is null ? "stdio" : spec.Serial.StartsWith("/dev/", StringComparison.Ordinal) ? spec.Serial : $"file:{spec.Serial}",
            "-drive", $"file={spec.Disk},format=raw,if=none,id=os{(spec.DiskReadOnly ? ",readonly=on" : "")}",
            "-device", (spec.Microvm ? "virtio-blk-device" : "virtio-blk-pci") + ",drive=os",
        };
        if (spec.Initrd is not null)
        {
            args.AddRange(["-initrd", spec.Initrd]);
        }
        if (spec.Tap is not null)
        {
            args.AddRange(["-netdev", $"tap,id=net,ifname={spec.Tap},script=no,downscript=no", "-device", (spec.Microvm ? "virtio-net-device" : "virtio-net-pci") + ",netdev=net"]);
        }
        return args;
    }
}

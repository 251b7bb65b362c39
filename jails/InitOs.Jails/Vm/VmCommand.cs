namespace InitOs.Jails.Vm;

/// <summary>The QEMU command line of a <see cref="VmSpec"/>.</summary>
public static class VmCommand
{
    public static IReadOnlyList<string> Arguments(VmSpec spec)
    {
        bool kvm = spec.Kvm ?? throw new ArgumentException("the spec's accelerator is not chosen yet (VmMachine.Start chooses it)");
        bool microvm = spec.Microvm ?? kvm;
        var args = new List<string>
        {
            "-machine", (microvm ? "microvm" : "pc") + (kvm ? ",accel=kvm" : ",accel=tcg"),
            "-cpu", kvm ? "host" : "max",
            "-m", spec.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", spec.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-kernel", spec.Kernel,
            "-append", spec.Append,
            "-display", "none", "-monitor", "none", "-nodefaults",
            // A guest reboot ends QEMU; QMP says which it was, and the supervisor decides.
            "-no-reboot",
            // QEMU runs as root on the host: once it is set up, a seccomp filter of its own
            // denies it new privileges, new processes and the host's scheduling and obsolete calls.
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            "-qmp", $"unix:{spec.QmpSocket},server=on,wait=off",
            // A /dev path is a host terminal (QEMU's "-serial /dev/XXX"), anything else a log file.
            "-serial", spec.Serial is null ? "stdio" : spec.Serial.StartsWith("/dev/", StringComparison.Ordinal) ? spec.Serial : $"file:{spec.Serial}",
            "-drive", $"file={spec.Disk},format=raw,if=none,id=os{(spec.DiskReadOnly ? ",readonly=on" : "")}{(spec.Snapshot ? ",snapshot=on" : "")}",
            "-device", (microvm ? "virtio-blk-device" : "virtio-blk-pci") + ",drive=os",
        };
        if (spec.Initrd is not null)
        {
            args.AddRange(["-initrd", spec.Initrd]);
        }
        if (spec.Tap is not null)
        {
            args.AddRange(["-netdev", $"tap,id=net,ifname={spec.Tap},script=no,downscript=no",
                // No option ROM: the guest boots its kernel directly, never from the network.
                "-device", (microvm ? "virtio-net-device" : "virtio-net-pci,romfile=") + ",netdev=net"]);
        }
        return QemuBinary.Of(spec).Arguments(args);
    }
}

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

    /// <summary>The dynamic loader of a staged kit: QEMU runs under it with the kit's libraries.</summary>
    public const string Loader = "ld-linux-x86-64.so.2";

    /// <summary>What to execute: QEMU itself, or the kit's loader (which then loads QEMU).</summary>
    public static string Executable(VmSpec spec) =>
        spec.LibraryDirectory is { } lib ? Path.Combine(lib, Loader) : spec.Qemu;

    /// <summary>QEMU's environment: the module directory and the snapshot's temporary directory, when given.</summary>
    public static IReadOnlyList<string> Environment(VmSpec spec)
    {
        var environment = new List<string> { "PATH=/usr/sbin:/usr/bin:/sbin:/bin" };
        if (spec.ModuleDirectory is { } modules)
        {
            environment.Add("QEMU_MODULE_DIR=" + modules);
        }
        if (spec.TemporaryDirectory is { } temporary)
        {
            environment.Add("TMPDIR=" + temporary);
        }
        return environment;
    }

    public static IReadOnlyList<string> Arguments(VmSpec spec)
    {
        bool kvm = spec.Kvm ?? KvmUsable();
        bool microvm = spec.Microvm ?? kvm;
        var args = new List<string>();
        if (spec.LibraryDirectory is { } lib)
        {
            args.AddRange([Loader, "--library-path", lib, spec.Qemu]);
        }
        else
        {
            args.Add(Path.GetFileName(spec.Qemu));
        }
        if (spec.FirmwareDirectory is { } firmware)
        {
            args.AddRange(["-L", firmware]);
        }
        args.AddRange(new[]
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
        });
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
        return args;
    }
}

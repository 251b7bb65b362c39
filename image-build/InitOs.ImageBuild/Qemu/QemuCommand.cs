namespace InitOs.ImageBuild.Qemu;

/// <summary>Turns <see cref="QemuOptions"/> into a qemu-system-x86_64 command line.</summary>
public static class QemuCommand
{
    public const string Binary = "qemu-system-x86_64";

    /// <summary>
    /// KVM only when asked for (INITOS_QEMU_ACCEL=kvm) and /dev/kvm exists: the CI machines expose a
    /// /dev/kvm that cannot run a guest (vCPU MSR setup fails), so its presence proves nothing. TCG otherwise.
    /// </summary>
    public static bool HasKvm =>
        Environment.GetEnvironmentVariable("INITOS_QEMU_ACCEL") == "kvm" && File.Exists("/dev/kvm");

    public static IReadOnlyList<string> Arguments(QemuOptions options)
    {
        var args = new List<string>
        {
            "-machine", HasKvm ? "pc,accel=kvm" : "pc,accel=tcg",
            // NativeAOT code uses x86-64-v2 instructions; TCG's default qemu64 model lacks them.
            "-cpu", HasKvm ? "host" : "max",
            "-m", options.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", options.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-kernel", options.Kernel,
            "-initrd", options.Initrd,
            "-append", options.Append,
        };
        if (options.Interactive && options.SerialFile is null)
        {
            args.Add("-nographic");
        }
        else
        {
            args.AddRange(["-display", "none", "-monitor", "none", "-serial", options.SerialFile is null ? "stdio" : "file:" + options.SerialFile]);
        }
        foreach (var disk in options.Disks)
        {
            args.AddRange(["-drive", $"file={disk},format=raw,if=virtio"]);
        }
        args.AddRange(options.Network ? ["-nic", "user,model=virtio-net-pci"] : ["-nic", "none"]);
        if (options.NoReboot)
        {
            args.Add("-no-reboot");
        }
        return args;
    }
}

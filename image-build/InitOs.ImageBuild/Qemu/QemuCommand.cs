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
        var accel = HasKvm ? "accel=kvm" : "accel=tcg";
        var args = new List<string>
        {
            // Secure Boot needs q35 with SMM, so the firmware's variable store is out of the OS's reach.
            "-machine", options.Uefi is { SecureBoot: true } ? $"q35,smm=on,{accel}" : options.Uefi is not null ? $"q35,{accel}" : $"pc,{accel}",
            // NativeAOT code uses x86-64-v2 instructions; TCG's default qemu64 model lacks them.
            "-cpu", HasKvm ? "host" : "max",
            "-m", options.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-smp", options.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (options.Uefi is { } uefi)
        {
            if (uefi.SecureBoot)
            {
                args.AddRange(["-global", "driver=cfi.pflash01,property=secure,value=on"]);
            }
            args.AddRange(["-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={uefi.Code}", "-drive", $"if=pflash,format=raw,unit=1,file={uefi.Vars}"]);
        }
        else
        {
            args.AddRange(["-kernel", options.Kernel ?? throw new ArgumentException("a direct kernel boot needs a kernel"),
                "-initrd", options.Initrd ?? throw new ArgumentException("a direct kernel boot needs an initramfs"), "-append", options.Append]);
        }
        if (options.TpmSocket is { } socket)
        {
            args.AddRange(["-chardev", $"socket,id=chrtpm,path={socket}", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"]);
        }
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
        var forwards = string.Concat(options.HostForwards.Select(f => $",hostfwd=tcp:127.0.0.1:{f.Host}-:{f.Guest}"));
        args.AddRange(options.Network ? ["-nic", "user,model=virtio-net-pci" + forwards] : ["-nic", "none"]);
        if (options.NoReboot)
        {
            args.Add("-no-reboot");
        }
        return args;
    }
}

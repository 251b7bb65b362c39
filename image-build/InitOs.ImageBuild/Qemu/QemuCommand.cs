using InitOs.Jails.Vm;
using InitOs.Jails.Vm.Kvm;

namespace InitOs.ImageBuild.Qemu;

/// <summary>Turns <see cref="QemuOptions"/> into a qemu-system-x86_64 command line.</summary>
public static class QemuCommand
{
    public const string Binary = "qemu-system-x86_64";

    /// <summary>
    /// The options with their accelerator chosen: as asked (<see cref="QemuOptions.Accel"/>), and
    /// for auto KVM only once a probe guest really ran under it (<see cref="Accelerator"/>).
    /// </summary>
    public static QemuOptions WithAccelerator(QemuOptions options, Action<string>? log = null)
    {
        if (options.Kvm is not null)
        {
            return options;
        }
        var verdict = Accelerator.Choose(options.Accel ?? Accelerator.FromEnvironment(), QemuBinary.Installed());
        log?.Invoke(verdict.Reason);
        return options with { Kvm = verdict.Kvm };
    }

    public static IReadOnlyList<string> Arguments(QemuOptions options)
    {
        bool kvm = options.Kvm ?? throw new ArgumentException("the accelerator is not chosen yet (QemuCommand.WithAccelerator)");
        var accel = kvm ? "accel=kvm" : "accel=tcg";
        var args = new List<string>
        {
            // Secure Boot needs q35 with SMM, so the firmware's variable store is out of the OS's reach.
            "-machine", options.Uefi is { SecureBoot: true } ? $"q35,smm=on,{accel}" : options.Uefi is not null ? $"q35,{accel}" : $"pc,{accel}",
            // NativeAOT code uses x86-64-v2 instructions; TCG's default qemu64 model lacks them.
            "-cpu", kvm ? "host" : "max",
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
        if (options.Tftp is { } tftp)
        {
            args.AddRange(["-netdev", $"user,id=net0,tftp={tftp.Directory},bootfile={tftp.BootFile}" + forwards, "-device", $"{options.NicModel},netdev=net0,romfile="]);
        }
        else
        {
            args.AddRange(options.Network ? ["-nic", $"user,model={options.NicModel}" + forwards] : ["-nic", "none"]);
        }
        args.AddRange(options.ExtraArguments);
        if (options.NoReboot)
        {
            args.Add("-no-reboot");
        }
        return args;
    }
}

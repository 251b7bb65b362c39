using System.CommandLine;
using System.Diagnostics;
using InitOs.ImageBuild.Kernel;
using InitOs.ImageBuild.Qemu;

namespace InitOs.Cli;

/// <summary>`initos run`: boot kernel + initramfs + disks in QEMU, the serial console on this terminal.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var kernelDir = Cli.Option<string>("--kernel-dir", "unpacked Debian kernel; its boot/vmlinuz-* is booted", () => Cli.DefaultKernelDirectory);
        var kernel = Cli.Option<string?>("--kernel", "a vmlinuz to boot instead of the one in --kernel-dir");
        var initrd = Cli.Option<string>("--initrd", "the initramfs", () => "out/initramfs.img");
        var disks = Cli.Option<string[]>("--disk", "a raw disk image (virtio); repeat for more", () => ["out/rootfs.img"]);
        var append = Cli.Option<string>("--append", "extra kernel command line", () => "");
        var memory = Cli.Option<int>("--memory", "guest memory in MiB", () => 512);
        var network = Cli.Option<bool>("--net", "give the guest a virtio NIC on QEMU's user network (default: none)");
        var serial = Cli.Option<string?>("--serial-file", "write the serial console to this file instead of the terminal");
        var until = Cli.Option<string?>("--until", "stop the machine once this regular expression appears on the console");
        var timeout = Cli.Option<int>("--timeout", "with --until: give up after this many seconds", () => 120);
        var uefi = Cli.Option<bool>("--uefi", "boot the first disk with OVMF (a disk from initos build disk) instead of a direct kernel boot");
        var secureBoot = Cli.Option<bool>("--secure-boot", "with --uefi: Secure Boot enforced, Debian's test keys in db (or --vars)");
        var tpm = Cli.Option<bool>("--tpm", "give the guest a TPM 2.0 (swtpm): systemd-stub measures the UKI into PCR 11, and PID 1 logs it");
        var vars = Cli.Option<string?>("--vars", "with --uefi: a variable store to start from (a copy is used): e.g. OVMF_VARS_4M.fd, blank, to enrol keys");
        var command = new Command("run", "boot InitOS in QEMU: direct kernel boot, or --uefi [--secure-boot] from a disk (TCG, or KVM with INITOS_QEMU_ACCEL=kvm)")
        {
            kernelDir, kernel, initrd, disks, append, memory, network, serial, until, timeout, uefi, secureBoot, vars, tpm,
        };
        command.SetAction(r =>
        {
            bool firmware = r.GetValue(uefi);
            if (!firmware && (r.GetValue(secureBoot) || r.GetValue(vars) is not null))
            {
                throw new ArgumentException("--secure-boot and --vars go with --uefi");
            }
            using var varsCopy = firmware ? VarsCopy.Of(r.GetValue(vars) ?? (r.GetValue(secureBoot) ? UefiFirmware.SnakeoilVars : UefiFirmware.BlankVars)) : null;
            using var softwareTpm = r.GetValue(tpm) ? new SoftwareTpm() : null;
            var options = new QemuOptions
            {
                TpmSocket = softwareTpm?.Socket,
                Kernel = firmware ? null : r.GetValue(kernel) ?? KernelFolder.Open(r.GetValue(kernelDir)!).Vmlinuz,
                Initrd = firmware ? null : RequireFile(r.GetValue(initrd)!),
                Uefi = varsCopy is null ? null : new UefiFirmware(r.GetValue(secureBoot) ? UefiFirmware.SecureBootCode : UefiFirmware.PlainCode, varsCopy.Path, r.GetValue(secureBoot)),
                Disks = r.GetValue(disks)!.Select(RequireFile).ToList(),
                Append = ("console=ttyS0 panic=-1 " + r.GetValue(append)).Trim(),
                MemoryMiB = r.GetValue(memory),
                Network = r.GetValue(network),
                SerialFile = r.GetValue(serial),
            };
            return r.GetValue(until) is { } pattern
                ? RunUntil(options, pattern, TimeSpan.FromSeconds(r.GetValue(timeout)))
                : RunInteractive(options);
        });
        return command;
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} does not exist (make images builds the defaults)");

    private static int RunUntil(QemuOptions options, string pattern, TimeSpan timeout)
    {
        using var session = QemuSession.Start(options, Console.Out);
        try
        {
            session.WaitFor(pattern, timeout);
            Console.WriteLine($"\ninitos run: /{pattern}/ seen; stopping the machine");
            return 0;
        }
        catch (QemuTimeoutException e)
        {
            Console.Error.WriteLine($"\ninitos run: {e.Message.Split('\n')[0]}");
            return 1;
        }
    }

    /// <summary>QEMU owns the terminal; with the console there, Ctrl-A X quits.</summary>
    private static int RunInteractive(QemuOptions options)
    {
        options = options with { Interactive = true };
        if (options.SerialFile is null)
        {
            Console.WriteLine("initos run: the serial console follows; quit QEMU with Ctrl-A X");
        }
        var info = new ProcessStartInfo(QemuCommand.Binary) { UseShellExecute = false };
        foreach (var arg in QemuCommand.Arguments(options))
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + QemuCommand.Binary);
        process.WaitForExit();
        return process.ExitCode;
    }
}

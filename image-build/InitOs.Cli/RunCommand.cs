using System.CommandLine;
using System.Diagnostics;
using InitOs.ImageBuild.Kernel;
using InitOs.ImageBuild.Qemu;
using InitOs.Jails.Vm.Kvm;

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
        var cpus = Cli.Option<int>("--cpus", "virtual CPUs", () => 1);
        var accel = Cli.Option<string?>("--accel", "auto (KVM only when a probe guest really runs under it, else TCG), kvm or tcg; default: INITOS_QEMU_ACCEL, else auto");
        var network = Cli.Option<bool>("--net", "give the guest a virtio NIC on QEMU's user network (default: none)");
        var forwards = Cli.Option<string[]>("--forward", "with --net: HOST_PORT:GUEST_PORT, a TCP port of 127.0.0.1 forwarded into the guest (repeatable)");
        var then = Cli.Option<string?>("--then", "with --until: once the pattern is seen, run this shell command on this machine (e.g. `initos ssh …`), then stop the machine; its exit code is run's");
        var serial = Cli.Option<string?>("--serial-file", "write the serial console to this file instead of the terminal");
        var until = Cli.Option<string?>("--until", "stop the machine once this regular expression appears on the console");
        var timeout = Cli.Option<int>("--timeout", "with --until: give up after this many seconds", () => 120);
        var uefi = Cli.Option<bool>("--uefi", "boot the first disk with OVMF (a disk from initos build disk) instead of a direct kernel boot");
        var secureBoot = Cli.Option<bool>("--secure-boot", "with --uefi: Secure Boot enforced, Debian's test keys in db (or --vars)");
        var tpm = Cli.Option<bool>("--tpm", "give the guest a TPM 2.0 (swtpm): systemd-stub measures the UKI into PCR 11, and PID 1 logs it");
        var tpmState = Cli.Option<string?>("--tpm-state", "with --tpm: keep the TPM's state in this directory (one machine's TPM across boots: its sealed keys stay valid)");
        var reboots = Cli.Option<bool>("--reboots", "let the guest reboot in place (by default a reboot ends QEMU): upgrades, whose trial boots and rollbacks are reboots");
        var vars = Cli.Option<string?>("--vars", "with --uefi: a variable store to start from (a copy is used): e.g. OVMF_VARS_4M.fd, blank, to enrol keys");
        var command = new Command("run", "boot InitOS in QEMU: direct kernel boot, or --uefi [--secure-boot] from a disk (KVM when it proves to work, else TCG)")
        {
            kernelDir, kernel, initrd, disks, append, memory, cpus, accel, network, forwards, serial, until, timeout, then, uefi, secureBoot, vars, tpm, tpmState, reboots,
        };
        command.SetAction(r =>
        {
            bool firmware = r.GetValue(uefi);
            if (!firmware && (r.GetValue(secureBoot) || r.GetValue(vars) is not null))
            {
                throw new ArgumentException("--secure-boot and --vars go with --uefi");
            }
            var ports = (r.GetValue(forwards) ?? []).Select(Forward).ToList();
            if (ports.Count > 0 && !r.GetValue(network))
            {
                throw new ArgumentException("--forward goes with --net");
            }
            if (r.GetValue(then) is not null && r.GetValue(until) is null)
            {
                throw new ArgumentException("--then goes with --until: it runs once the pattern is seen");
            }
            using var varsCopy = firmware ? VarsCopy.Of(r.GetValue(vars) ?? (r.GetValue(secureBoot) ? UefiFirmware.SnakeoilVars : UefiFirmware.BlankVars)) : null;
            using var softwareTpm = r.GetValue(tpm) ? new SoftwareTpm(r.GetValue(tpmState)) : null;
            var options = new QemuOptions
            {
                TpmSocket = softwareTpm?.Socket,
                Kernel = firmware ? null : r.GetValue(kernel) ?? KernelFolder.Open(r.GetValue(kernelDir)!).Vmlinuz,
                Initrd = firmware ? null : RequireFile(r.GetValue(initrd)!),
                Uefi = varsCopy is null ? null : new UefiFirmware(r.GetValue(secureBoot) ? UefiFirmware.SecureBootCode : UefiFirmware.PlainCode, varsCopy.Path, r.GetValue(secureBoot)),
                Disks = r.GetValue(disks)!.Select(RequireFile).ToList(),
                Append = ("console=ttyS0 panic=-1 " + r.GetValue(append)).Trim(),
                MemoryMiB = r.GetValue(memory) is > 0 and var mib ? mib : throw new ArgumentException("--memory: expected a positive number of MiB"),
                Cpus = r.GetValue(cpus) is > 0 and var n ? n : throw new ArgumentException("--cpus: expected a positive number"),
                Accel = r.GetValue(accel) is { } a ? Accelerator.Parse(a, "--accel") : null,
                Network = r.GetValue(network),
                HostForwards = ports,
                SerialFile = r.GetValue(serial),
                NoReboot = !r.GetValue(reboots),
                // Trial boots are judged by the sidecar, and a hang is the watchdog's to end.
                ExtraArguments = r.GetValue(reboots) ? ["-device", "i6300esb"] : [],
            };
            return r.GetValue(until) is { } pattern
                ? RunUntil(options, pattern, TimeSpan.FromSeconds(r.GetValue(timeout)), r.GetValue(then))
                : RunInteractive(options);
        });
        return command;
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} does not exist (make images builds the defaults)");

    private static (int Host, int Guest) Forward(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2 && ushort.TryParse(parts[0], out var host) && ushort.TryParse(parts[1], out var guest) && host > 0 && guest > 0
            ? (host, guest)
            : throw new ArgumentException($"--forward {text}: expected HOST_PORT:GUEST_PORT, like 2222:22");
    }

    private static int RunUntil(QemuOptions options, string pattern, TimeSpan timeout, string? then)
    {
        options = QemuCommand.WithAccelerator(options, reason => Console.Error.WriteLine("initos run: " + reason));
        using var session = QemuSession.Start(options, Console.Out);
        try
        {
            session.WaitFor(pattern, timeout);
            if (then is null)
            {
                Console.WriteLine($"\ninitos run: /{pattern}/ seen; stopping the machine");
                return 0;
            }
            Console.WriteLine($"\ninitos run: /{pattern}/ seen; running: {then}");
            int code = RunOnHost(then);
            Console.WriteLine($"initos run: the command exited {code}; stopping the machine");
            return code;
        }
        catch (QemuTimeoutException e)
        {
            Console.Error.WriteLine($"\ninitos run: {e.Message.Split('\n')[0]}");
            return 1;
        }
    }

    private static int RunOnHost(string command)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>QEMU owns the terminal; with the console there, Ctrl-A X quits.</summary>
    private static int RunInteractive(QemuOptions options)
    {
        options = QemuCommand.WithAccelerator(options with { Interactive = true }, reason => Console.Error.WriteLine("initos run: " + reason));
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

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
        var command = new Command("run", "boot InitOS in QEMU (direct kernel boot; TCG, or KVM with INITOS_QEMU_ACCEL=kvm)")
        {
            kernelDir, kernel, initrd, disks, append, memory, network, serial, until, timeout,
        };
        command.SetAction(r =>
        {
            var options = new QemuOptions
            {
                Kernel = r.GetValue(kernel) ?? KernelFolder.Open(r.GetValue(kernelDir)!).Vmlinuz,
                Initrd = RequireFile(r.GetValue(initrd)!),
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

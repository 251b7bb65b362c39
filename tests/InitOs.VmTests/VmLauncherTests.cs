using InitOs.ImageBuild.Rootfs;
using InitOs.Jails.Vm;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The jails library's VM launcher, run directly on the CI machine (no nesting): QEMU boots the
/// default OS from its image as a virtio disk, with the host's kernel and InitOS's initramfs,
/// its serial console goes to a file, and QMP tells a guest reboot from a guest poweroff.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class VmLauncherTests
{
    /// <summary>The OS ends itself the way its kernel command line says (test.end=reboot|poweroff).</summary>
    private const string Lifecycle = """
        #!/bin/sh
        for word in $(cat /proc/cmdline); do
          case "$word" in
            test.end=reboot) echo VM-OS-REBOOTING; reboot ;;
            test.end=poweroff) echo VM-OS-POWERING-OFF; poweroff ;;
          esac
        done
        """;

    private readonly BootImages _images;

    public VmLauncherTests(BootImages images) => _images = images;

    [Theory]
    [InlineData("reboot", VmEnd.GuestReboot)]
    [InlineData("poweroff", VmEnd.GuestPowerOff)]
    public void The_launcher_boots_the_default_os_and_tells_its_reboot_from_its_poweroff(string end, VmEnd expected)
    {
        var disk = _images.Scratch($"vm-os-{end}.img");
        DiskImages.DefaultRootfs(disk, extras:
        [
            new DefaultRootfs.ExtraFile("etc/lifecycle", Lifecycle + "\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", "::once:/etc/lifecycle\n::shutdown:/bin/sync\n", 0x1A4),
        ]);
        var serial = _images.Scratch($"vm-{end}.serial");
        var spec = new VmSpec
        {
            Qemu = "/usr/bin/qemu-system-x86_64",
            Kernel = _images.Kernel,
            Initrd = _images.Initramfs,
            Disk = disk,
            Append = $"console=ttyS0 panic=-1 quiet root=LABEL=initos-root test.end={end}",
            Serial = serial,
            QmpSocket = _images.Scratch($"vm-{end}.qmp"),
        };
        Assert.Contains("accel=tcg", string.Join(' ', VmCommand.Arguments(spec with { Kvm = false })), StringComparison.Ordinal);
        using var machine = VmMachine.Start(spec);
        var exit = WaitForExit(machine.Pid, TimeSpan.FromSeconds(150), serial);
        var log = File.ReadAllText(serial);
        Assert.True(exit.Exited, $"QEMU {exit}: {File.ReadAllText(spec.QmpSocket + ".log")}\n{log}");
        Assert.Matches(@"INITOS-OS-UP uptime=[\d.]+ pid=1 hostname=initos-default rootfs=ext4", log);
        Assert.Contains(end == "reboot" ? "VM-OS-REBOOTING" : "VM-OS-POWERING-OFF", log, StringComparison.Ordinal);
        // The QMP reader may still be handling QEMU's last lines.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (machine.End == VmEnd.Unknown && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.Equal(expected, machine.End);
    }

    private static ChildExit WaitForExit(int pid, TimeSpan limit, string serial)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (Processes.Wait(pid, noHang: true) is { } exit)
            {
                return exit;
            }
            Thread.Sleep(100);
        }
        Processes.Signal(pid, Signal.Kill);
        Processes.Wait(pid);
        File.Copy(serial, Path.Combine(RepoPaths.Artifacts, Path.GetFileName(serial) + ".log"), overwrite: true);
        throw new TimeoutException($"the VM did not end within {limit.TotalSeconds:F0} s; its console is in tests/artifacts");
    }
}

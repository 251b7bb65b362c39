namespace InitOs.ImageBuild.Qemu;

/// <summary>A direct-kernel QEMU boot: kernel, initramfs, disks, command line.</summary>
public sealed record QemuOptions
{
    public required string Kernel { get; init; }
    public required string Initrd { get; init; }
    public IReadOnlyList<string> Disks { get; init; } = [];
    public string Append { get; init; } = "console=ttyS0 panic=-1";
    public int MemoryMiB { get; init; } = 512;
    public int Cpus { get; init; } = 1;
    /// <summary>Off by default: without a NIC there is no PXE detour and no surprise traffic.</summary>
    public bool Network { get; init; }
    /// <summary>Exit QEMU when the guest reboots (tests count on a reboot ending the run).</summary>
    public bool NoReboot { get; init; } = true;
    /// <summary>A person at the terminal: -nographic, so Ctrl-A X quits and Ctrl-C reaches the guest.</summary>
    public bool Interactive { get; init; }
    /// <summary>null: the serial console is QEMU's stdin/stdout.</summary>
    public string? SerialFile { get; init; }
}

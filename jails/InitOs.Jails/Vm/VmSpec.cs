namespace InitOs.Jails.Vm;

/// <summary>
/// A VM jail: QEMU (a binary from the data volume; QEMU does not belong in the initramfs)
/// booting an OS image as a virtio disk with a kernel and initramfs of its choice.
/// </summary>
public sealed record VmSpec
{
    public required string Qemu { get; init; }
    public required string Kernel { get; init; }
    public string? Initrd { get; init; }
    /// <summary>The OS image: a raw disk or filesystem image, the guest's first virtio disk.</summary>
    public required string Disk { get; init; }
    public bool DiskReadOnly { get; init; }
    public string Append { get; init; } = "console=ttyS0 panic=-1";
    public int MemoryMiB { get; init; } = 512;
    public int Cpus { get; init; } = 1;
    /// <summary>A TAP device on the host bridge for the guest's NIC; null: no network.</summary>
    public string? Tap { get; init; }
    /// <summary>The guest's serial console: a file or a terminal (a pty slave); null: this process's stdio.</summary>
    public string? Serial { get; init; }
    /// <summary>QMP, through which InitOS learns how the guest ended and asks it to power down.</summary>
    public required string QmpSocket { get; init; }
    /// <summary>Null: KVM when /dev/kvm can be opened, TCG otherwise.</summary>
    public bool? Kvm { get; init; }
    /// <summary>The microvm machine type (no firmware, no PCI): for kernels with virtio-mmio built in.</summary>
    public bool Microvm { get; init; }
}

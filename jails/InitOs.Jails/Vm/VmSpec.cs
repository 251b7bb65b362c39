namespace InitOs.Jails.Vm;

/// <summary>
/// A VM jail: QEMU (a binary from the data volume; QEMU does not belong in the initramfs)
/// booting an OS image as a virtio disk with a kernel and initramfs of its choice.
/// </summary>
public sealed record VmSpec
{
    public required string Qemu { get; init; }
    /// <summary>
    /// A directory holding QEMU's shared libraries and their loader (a kit staged on the data
    /// volume): QEMU then runs under that loader with that library path, not the host's (an
    /// initramfs has no QEMU libraries). Null: QEMU as installed.
    /// </summary>
    public string? LibraryDirectory { get; init; }
    /// <summary>QEMU's firmware and option ROMs (-L); null: its built-in data directories.</summary>
    public string? FirmwareDirectory { get; init; }
    /// <summary>QEMU's loadable modules (the TCG accelerator is one in Debian's build); null: as installed.</summary>
    public string? ModuleDirectory { get; init; }
    /// <summary>Where QEMU keeps the disk's writes when <see cref="Snapshot"/> is on (its TMPDIR).</summary>
    public string? TemporaryDirectory { get; init; }
    public required string Kernel { get; init; }
    public string? Initrd { get; init; }
    /// <summary>The OS image: a raw disk or filesystem image, the guest's first virtio disk.</summary>
    public required string Disk { get; init; }
    public bool DiskReadOnly { get; init; }
    /// <summary>The guest's writes go to a temporary file, dropped when QEMU ends: a fresh disk every start.</summary>
    public bool Snapshot { get; init; }
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
    /// <summary>
    /// The microvm machine type (no PCI, qboot: the fastest boot; the guest's kernel needs
    /// virtio-mmio), or pc. Null: microvm under KVM, pc under TCG, because a guest kernel on
    /// microvm under TCG can fail to calibrate its TSC (no HPET or PM timer to measure it
    /// against) and hang, as seen on the CI machine.
    /// </summary>
    public bool? Microvm { get; init; }
}

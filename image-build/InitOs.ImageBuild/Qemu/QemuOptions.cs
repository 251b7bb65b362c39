using InitOs.Jails.Vm.Kvm;

namespace InitOs.ImageBuild.Qemu;

/// <summary>
/// A QEMU boot: direct kernel (kernel, initramfs, command line) or UEFI firmware booting the
/// first disk (<see cref="Uefi"/>), with disks, an optional software TPM, and the console.
/// </summary>
public sealed record QemuOptions
{
    /// <summary>Direct kernel boot; null with <see cref="Uefi"/>, where the firmware boots the disk.</summary>
    public string? Kernel { get; init; }
    public string? Initrd { get; init; }
    public UefiFirmware? Uefi { get; init; }
    /// <summary>A swtpm control socket: the guest gets a TPM 2.0 (tpm-tis).</summary>
    public string? TpmSocket { get; init; }
    public IReadOnlyList<string> Disks { get; init; } = [];
    /// <summary>More QEMU arguments, after the rest: other controllers and the disks behind them (the hardware tests).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
    /// <summary>
    /// A network boot: QEMU's user network serves this directory by TFTP and names the boot
    /// file in its DHCP answers; the NIC has no option ROM, so the firmware's own UEFI PXE boots.
    /// </summary>
    public (string Directory, string BootFile)? Tftp { get; init; }
    /// <summary>The NIC QEMU's user network is attached to (-nic model=).</summary>
    public string NicModel { get; init; } = "virtio-net-pci";
    public string Append { get; init; } = "console=ttyS0 panic=-1";
    public int MemoryMiB { get; init; } = 512;
    public int Cpus { get; init; } = 1;
    /// <summary>auto, kvm or tcg; null: INITOS_QEMU_ACCEL, else auto.</summary>
    public AccelRequest? Accel { get; init; }
    /// <summary>The accelerator chosen (KVM, else TCG); null until <see cref="QemuCommand.WithAccelerator"/>.</summary>
    public bool? Kvm { get; init; }
    /// <summary>Off by default: without a NIC there is no PXE detour and no surprise traffic.</summary>
    public bool Network { get; init; }
    /// <summary>With <see cref="Network"/>: host TCP port → guest TCP port, on the host's 127.0.0.1.</summary>
    public IReadOnlyList<(int Host, int Guest)> HostForwards { get; init; } = [];
    /// <summary>Exit QEMU when the guest reboots (tests count on a reboot ending the run).</summary>
    public bool NoReboot { get; init; } = true;
    /// <summary>A person at the terminal: -nographic, so Ctrl-A X quits and Ctrl-C reaches the guest.</summary>
    public bool Interactive { get; init; }
    /// <summary>null: the serial console is QEMU's stdin/stdout.</summary>
    public string? SerialFile { get; init; }
}

/// <summary>OVMF: its code (read-only), a writable copy of a variable store, and whether Secure Boot is enforced.</summary>
public sealed record UefiFirmware(string Code, string Vars, bool SecureBoot)
{
    public const string SecureBootCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";
    public const string PlainCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    /// <summary>Debian's test variable store: Secure Boot on, db holds the snakeoil key.</summary>
    public const string SnakeoilVars = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd";
    /// <summary>No keys at all: the firmware is in setup mode, ready to enrol.</summary>
    public const string BlankVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";
}

namespace InitOs.Init.Config;

/// <summary>
/// The VM kit's layout on the data volume, relative to its directory ([vm] kit): what
/// `initos build data --vm-kit` stages and what mode vm looks for. QEMU runs under the kit's
/// own loader and libraries, so the kit works from any initramfs.
/// </summary>
public static class VmKitLayout
{
    public const string Qemu = "qemu/qemu-system-x86_64";
    public const string Libraries = "qemu/lib";
    public const string Modules = "qemu/modules";
    public const string Firmware = "qemu/firmware";
    /// <summary>The guest's kernel: an uncompressed ELF (PVH boot) when the build tool could extract one, else a bzImage.</summary>
    public const string Kernel = "kernel";
    public const string Initrd = "initrd.img";

    /// <summary>
    /// In the signed initramfs: the SHA-256 of every kit file that runs on the host or as the
    /// guest's firmware (sha256sum format, paths relative to the kit). Mode vm runs only a
    /// verified copy of those files.
    /// </summary>
    public const string DigestFile = "/etc/initos/vm-kit.sha256";

    /// <summary>QEMU and the loader are executed; the rest are only read.</summary>
    public static bool IsExecutable(string relative) =>
        relative == Qemu || Path.GetFileName(relative).StartsWith("ld-linux", StringComparison.Ordinal);

    /// <summary>What the guest's disk writes go to while it runs (QEMU's snapshot file): on disk, not in RAM.</summary>
    public const string Scratch = "scratch";

    /// <summary>The firmware the two machine types need: qboot for microvm, SeaBIOS and its option ROMs for pc (linuxboot_dma for a bzImage, pvh for an ELF kernel).</summary>
    public static readonly IReadOnlyList<string> FirmwareFiles = ["bios-microvm.bin", "bios-256k.bin", "linuxboot_dma.bin", "pvh.bin", "kvmvapic.bin"];

    /// <summary>Every file mode vm needs, for the error that lists what is missing.</summary>
    public static IEnumerable<string> Required(string machine) =>
        new[] { Qemu, Path.Combine(Libraries, "ld-linux-x86-64.so.2"), Kernel, Initrd }
            .Concat(machine is "microvm" or "auto" ? [Path.Combine(Firmware, "bios-microvm.bin")] : [])
            .Concat(machine is "pc" or "auto" ? [Path.Combine(Firmware, "bios-256k.bin"), Path.Combine(Firmware, "linuxboot_dma.bin")] : []);
}

using InitOs.ImageBuild.Cpio;

namespace InitOs.ImageBuild.Initramfs;

/// <summary>Everything an initramfs is made of; same spec and same files → same bytes.</summary>
public sealed record InitramfsSpec
{
    /// <summary>The NativeAOT multi-call binary (init/InitOs.Box published).</summary>
    public required string BoxBinary { get; init; }
    /// <summary>An unpacked Debian linux-image package.</summary>
    public required string KernelDirectory { get; init; }
    /// <summary>initos.toml to pack as /etc/initos/initos.toml; null packs none (built-in defaults).</summary>
    public string? ConfigFile { get; init; }
    /// <summary>Skip the config check: only tests that boot a deliberately broken config set this.</summary>
    public bool AllowInvalidConfig { get; init; }
    /// <summary>busybox-static for the emergency shell; null leaves the shell out.</summary>
    public string? Busybox { get; init; } = "/bin/busybox";
    /// <summary>More programs, image path → file (diagnostics for tests); their libraries come along.</summary>
    public IReadOnlyDictionary<string, string> ExtraExecutables { get; init; } = new Dictionary<string, string>();
    /// <summary>Directory trees to copy in, image path → host directory (an OCI bundle for jails, say).</summary>
    public IReadOnlyDictionary<string, string> ExtraTrees { get; init; } = new Dictionary<string, string>();
    /// <summary>
    /// The QEMU whose VM kit (`initos build data --vm-kit`) mode vm may run: its files' digests
    /// go into the initramfs. Null, or no such file on this machine: none, and mode vm refuses to start.
    /// </summary>
    public string? VmKitQemu { get; init; } = Data.VmKit.DefaultQemu;
    /// <summary>Overrides [modules] profile of the config (the build command line's --profile).</summary>
    public InitOs.Init.Config.ModuleProfile? Profile { get; init; }
    /// <summary>Profile host: the target's inventory (`initos admin hardware --json`); null: this machine's.</summary>
    public InitOs.Init.Modules.HardwareInventory? Hardware { get; init; }
    /// <summary>Where firmware files and CPU microcode are looked for (Debian's firmware packages install them here).</summary>
    public string FirmwareDirectory { get; init; } = "/lib/firmware";
    public Compression Compression { get; init; } = Compression.Zstd;
    public int ZstdLevel { get; init; } = 19;
    public long Mtime { get; init; }
}

/// <summary>What was built, for the build's report line.</summary>
public sealed record InitramfsReport(string Output, long Bytes, int Entries, IReadOnlyList<string> Modules, IReadOnlyList<string> Libraries, string VmKit = "")
{
    public string Profile { get; init; } = "";
    /// <summary>Firmware files packed (path under lib/firmware), and the declared ones not on the build machine.</summary>
    public IReadOnlyList<string> Firmware { get; init; } = [];
    public int FirmwareMissing { get; init; }
    /// <summary>Profile host: the device drivers of modules.include no device of the inventory matches.</summary>
    public IReadOnlyList<string> HostLeftOut { get; init; } = [];
    /// <summary>The early cpio's microcode blobs (path, files, bytes); empty: none installed.</summary>
    public IReadOnlyList<Microcode.Blob> Microcode { get; init; } = [];
}

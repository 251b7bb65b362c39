namespace InitOs.Efi.Uki;

/// <summary>What a Unified Kernel Image is made of. Same spec and same files → same bytes.</summary>
public sealed record UkiSpec
{
    public const string DefaultStub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
    /// <summary>Added to the stub's .sbat (CSV: component, generation, vendor, package, version, url).</summary>
    public const string DefaultSbatLine = "initos,1,InitOS,initos,1,-";

    /// <summary>systemd-stub (Debian's systemd-boot-efi), unsigned.</summary>
    public string Stub { get; init; } = DefaultStub;
    /// <summary>The kernel: an EFI-stub bzImage (vmlinuz).</summary>
    public required string Kernel { get; init; }
    public required string Initrd { get; init; }
    public required string Cmdline { get; init; }
    /// <summary>The .osrel text (os-release format).</summary>
    public required string OsRelease { get; init; }
    public string? Splash { get; init; }
    public string? Devicetree { get; init; }
    public string? PcrPublicKey { get; init; }
    public string? PcrSignature { get; init; }
    public string SbatLine { get; init; } = DefaultSbatLine;
    /// <summary>The PE TimeDateStamp (SOURCE_DATE_EPOCH), so that builds are reproducible.</summary>
    public uint Timestamp { get; init; }
}

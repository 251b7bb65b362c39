using System.Text.RegularExpressions;
using InitOs.ImageBuild.Cpio;

namespace InitOs.ImageBuild.Initramfs;

/// <summary>
/// CPU microcode for the kernel's early loader: an uncompressed cpio in front of the
/// initramfs holding kernel/x86/microcode/GenuineIntel.bin and AuthenticAMD.bin, each the
/// concatenation of what intel-microcode and amd64-microcode install under /lib/firmware.
/// The kernel reads it before it unpacks anything, so the CPU is updated before any code of
/// ours runs (Documentation/arch/x86/microcode.rst).
/// </summary>
public static partial class Microcode
{
    public const string IntelPath = "kernel/x86/microcode/GenuineIntel.bin";
    public const string AmdPath = "kernel/x86/microcode/AuthenticAMD.bin";

    public sealed record Blob(string Path, int Files, byte[] Content);

    /// <summary>
    /// The blobs for the vendors whose microcode is installed under <paramref name="firmwareDirectory"/>;
    /// none when neither is. With <paramref name="cpu"/> (as <see cref="InitOs.Init.Modules.HardwareInventory.Cpu"/>
    /// says it), only that CPU's file.
    /// </summary>
    public static IReadOnlyList<Blob> Collect(string firmwareDirectory, string? cpu = null)
    {
        var blobs = new List<Blob>();
        var (vendor, signature) = cpu?.Split(' ') is [var v, var s] ? (v, s) : (null, null);
        if (vendor is null or "GenuineIntel")
        {
            Add(blobs, IntelPath, IntelFiles(Path.Combine(firmwareDirectory, "intel-ucode"), signature));
        }
        if (vendor is null or "AuthenticAMD")
        {
            Add(blobs, AmdPath, AmdFiles(Path.Combine(firmwareDirectory, "amd-ucode"), signature));
        }
        return blobs;
    }

    /// <summary>
    /// One file per family-model-stepping; Debian ships some as NAME.initramfs too, the version
    /// meant for early loading, which is then taken instead.
    /// </summary>
    private static List<string> IntelFiles(string directory, string? signature)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var names = Directory.EnumerateFiles(directory).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        return names.Where(n => IntelName().IsMatch(n!) && (signature is null || n == signature))
            .Order(StringComparer.Ordinal)
            .Select(n => Path.Combine(directory, names.Contains(n + ".initramfs") ? n + ".initramfs" : n!))
            .ToList();
    }

    /// <summary>microcode_amd.bin for families before 15h, microcode_amd_famXXh.bin after.</summary>
    private static List<string> AmdFiles(string directory, string? signature)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        int family = signature is null ? -1 : Convert.ToInt32(signature[..2], 16);
        var wanted = family < 0 ? null : family < 0x15 ? "microcode_amd.bin" : $"microcode_amd_fam{family:x2}h.bin";
        return Directory.EnumerateFiles(directory)
            .Where(f => Path.GetFileName(f) is var n && n.StartsWith("microcode_amd", StringComparison.Ordinal) && n.EndsWith(".bin", StringComparison.Ordinal) && (wanted is null || n == wanted))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static void Add(List<Blob> blobs, string path, List<string> files)
    {
        if (files.Count == 0)
        {
            return;
        }
        using var content = new MemoryStream();
        foreach (var file in files)
        {
            using var input = File.OpenRead(file);
            input.CopyTo(content);
        }
        blobs.Add(new Blob(path, files.Count, content.ToArray()));
    }

    /// <summary>The early cpio, uncompressed and padded to 512 bytes so the compressed archive after it starts on a boundary.</summary>
    public static void WriteEarlyArchive(IReadOnlyList<Blob> blobs, Stream output, long mtime)
    {
        var archive = new CpioArchive();
        foreach (var blob in blobs)
        {
            archive.AddFile(blob.Path, blob.Content);
        }
        long start = output.Position;
        archive.WriteTo(output, mtime);
        long written = output.Position - start;
        output.Write(new byte[(512 - written % 512) % 512]);
    }

    /// <summary>Intel's files are named family-model-stepping in hex ("06-8e-09").</summary>
    [GeneratedRegex("^[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}$")]
    private static partial Regex IntelName();
}

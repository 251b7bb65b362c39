using InitOs.Tools;

namespace InitOs.ImageBuild.Disk;

/// <summary>
/// An EFI System Partition image: FAT (32, or 16 when small) made by mkfs.vfat and filled with mtools, so nothing
/// is mounted. Files are image path → host file (EFI/BOOT/BOOTX64.EFI → the signed UKI).
/// </summary>
public static class EspImage
{
    public const long DefaultSizeBytes = 64L << 20;

    public static void Create(string output, IReadOnlyDictionary<string, string> files, long sizeBytes = DefaultSizeBytes, uint volumeId = 0x1A17_0501)
    {
        long needed = files.Values.Sum(f => new FileInfo(f).Length);
        if (needed > sizeBytes * 9 / 10)
        {
            throw new InvalidOperationException($"the ESP of {sizeBytes >> 20} MiB cannot hold {needed >> 20} MiB of files; give it more room");
        }
        File.Delete(output);
        // --invariant: fixed timestamps and serial, so the same files give the same image.
        // FAT32 needs at least 65525 clusters; a small ESP is FAT16, which UEFI reads as well.
        var fatBits = sizeBytes >= 64L << 20 ? "32" : "16";
        ExternalTool.Run("mkfs.vfat", ["-C", "-F", fatBits, "-n", "ESP", "-i", volumeId.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), "--invariant", output, (sizeBytes / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var environment = new Dictionary<string, string> { ["MTOOLS_SKIP_CHECK"] = "1", ["SOURCE_DATE_EPOCH"] = ExternalTool.SourceDateEpoch().ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var made = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (target, source) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var parts = target.Trim('/').Split('/');
            for (int i = 1; i < parts.Length; i++)
            {
                var directory = string.Join('/', parts[..i]);
                if (made.Add(directory))
                {
                    ExternalTool.Run("mmd", ["-i", output, "::/" + directory], environment);
                }
            }
            ExternalTool.Run("mcopy", ["-i", output, source, "::/" + string.Join('/', parts)], environment);
        }
    }
}

using System.Text;
using InitOs.Efi.Pe;

namespace InitOs.Efi.Uki;

/// <summary>The release a UKI says it is: IMAGE_VERSION in its .osrel, which systemd-boot orders type-2 entries by.</summary>
public static class UkiRelease
{
    /// <summary>The IMAGE_VERSION of the UKI's .osrel; null when it has none.</summary>
    public static string? ImageVersion(string uki)
    {
        var image = PeImage.Load(uki);
        var osrel = image.Find(".osrel") ?? throw new PeFormatException($"{uki}: no .osrel section (not a UKI from `initos build uki`)");
        var text = Encoding.UTF8.GetString(image.Bytes, (int)osrel.PointerToRawData, (int)Math.Min(osrel.VirtualSize, osrel.SizeOfRawData)).TrimEnd('\0');
        return text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("IMAGE_VERSION=", StringComparison.Ordinal))?["IMAGE_VERSION=".Length..].Trim('"');
    }

    /// <summary>A release an upgrade can name: dot-separated decimal numbers (a build's `git describe` is not one).</summary>
    public static bool IsRelease(string? version) =>
        version is { Length: > 0 } && version.Split('.').All(p => p.Length is > 0 and <= 9 && p.All(char.IsAsciiDigit));

    /// <summary>The file name under EFI/Linux: initos-RELEASE.efi for a release (the upgrade's slot name), else initos.efi.</summary>
    public static string EntryFileName(string uki) =>
        ImageVersion(uki) is { } version && IsRelease(version) ? $"initos-{version}.efi" : "initos.efi";
}

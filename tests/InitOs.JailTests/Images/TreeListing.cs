using System.Security.Cryptography;
using InitOs.Sys;

namespace InitOs.JailTests.Images;

/// <summary>
/// A tree as what the comparison with umoci looks at, one line per entry: type, permission
/// bits, owner, size, SHA-256 of a file, a symlink's target, a device's numbers and every
/// extended attribute (hex). Times are left out: the issue compares content and metadata.
/// </summary>
internal static class TreeListing
{
    public static SortedDictionary<string, string> Of(string root)
    {
        var listing = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(root, "", listing);
        return listing;
    }

    /// <summary>Every path whose line differs, or that one side lacks, with both lines.</summary>
    public static List<string> Differences(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual) =>
        expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(k => !expected.TryGetValue(k, out var e) || !actual.TryGetValue(k, out var a) || e != a)
            .Select(k => $"/{k}: expected {expected.GetValueOrDefault(k, "(absent)")}, got {actual.GetValueOrDefault(k, "(absent)")}")
            .ToList();

    private static void Walk(string root, string relative, SortedDictionary<string, string> listing)
    {
        var path = relative.Length == 0 ? root : Path.Combine(root, relative);
        var status = Files.Status(path) ?? throw new IOException($"{path} vanished");
        listing[relative] = Describe(path, status);
        if (status.IsDirectory)
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            {
                Walk(root, relative.Length == 0 ? child! : relative + "/" + child, listing);
            }
        }
    }

    private static string Describe(string path, FileStatus status)
    {
        var type = (status.Mode & FileTypes.Mask) switch
        {
            FileTypes.Directory => "dir",
            FileTypes.Regular => "file",
            FileTypes.Symlink => "symlink",
            FileTypes.CharDevice => "char",
            FileTypes.BlockDevice => "block",
            FileTypes.Fifo => "fifo",
            var other => $"type {other:x}",
        };
        var line = $"{type} {Convert.ToString(status.Mode & 0xFFF, 8)} {status.Uid}:{status.Gid}";
        if (status.IsRegularFile)
        {
            using var file = File.OpenRead(path);
            line += $" {status.Size} {Convert.ToHexStringLower(SHA256.HashData(file))[..16]}";
        }
        if (status.IsSymlink)
        {
            line += " -> " + new FileInfo(path).LinkTarget;
        }
        if (status.IsCharDevice || status.IsBlockDevice)
        {
            line += $" {status.RdevMajor},{status.RdevMinor}";
        }
        foreach (var name in Xattrs.List(path))
        {
            line += $" {name}={Convert.ToHexStringLower(Xattrs.Get(path, name))}";
        }
        return line;
    }
}

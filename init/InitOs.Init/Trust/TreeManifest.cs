using System.Globalization;
using System.Text;
using InitOs.Sys;

namespace InitOs.Init.Trust;

/// <summary>
/// What an OS tree holds, one line an entry in path order: type, permission bits, owner,
/// then the content (a file's SHA-256, a link's target, a device's numbers) and the path.
/// `initos build data` writes one beside each tree it stages (images/NAME.manifest) and prints
/// its digest for [os] image_digest; at boot the signed digest vouches for the manifest, and
/// the tree is walked again and compared with it, so that one changed byte, mode, owner or
/// entry is refused by name. Symlinks are recorded, never followed; timestamps and extended
/// attributes are not recorded.
/// </summary>
public static class TreeManifest
{
    public const string Header = "initos-tree 1";
    public const string DigestPrefix = "sha256:";
    private const int ListedDifferences = 5;

    /// <summary>The manifest of the tree at <paramref name="root"/>, which must be a real directory.</summary>
    public static string Of(string root)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var line in Lines(root))
        {
            text.Append(line).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>"sha256:HEX" of a manifest's bytes: what the signed config pins.</summary>
    public static string Digest(string manifest) => DigestPrefix + DigestList.Hex(Sha256.Hash(Encoding.UTF8.GetBytes(manifest)));

    /// <summary>
    /// Checks the manifest against the pinned digest, then the tree against the manifest; the
    /// first differences are named (with how many there are in all). Returns the entries checked.
    /// </summary>
    public static int Verify(string root, string manifestPath, string pinnedDigest)
    {
        var manifest = ReadManifest(manifestPath);
        var digest = Digest(manifest);
        if (digest != pinnedDigest)
        {
            throw new UntrustedFileException(manifestPath, $"{manifestPath}: its digest is {digest}, not the {pinnedDigest} the signed config pins: refused");
        }
        var expected = Parse(manifest, manifestPath);
        var actual = Index(Lines(root));
        var differences = Compare(expected, actual);
        if (differences.Count > 0)
        {
            var first = differences[0];
            var named = string.Join("; ", differences.Take(ListedDifferences).Select(d => d.Text));
            var more = differences.Count > ListedDifferences ? $" and {differences.Count - ListedDifferences} more" : "";
            throw new UntrustedFileException(Path.Combine(root, first.Path), $"the image {root} is not what its signed manifest says: {named}{more}: refused");
        }
        return actual.Count;
    }

    private static string ReadManifest(string path)
    {
        try
        {
            using var stream = Files.OpenRegularFile(path);
            if (stream.Length > 256L << 20)
            {
                throw new UntrustedFileException(path, $"{path}: {stream.Length >> 20} MiB is more than any manifest: refused");
            }
            using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true));
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is SysException or IOException or DecoderFallbackException)
        {
            throw new UntrustedFileException(path, $"{path}: {(Files.Status(path) is null ? "missing (`initos build data --image` writes it beside the image)" : e.Message)}: refused");
        }
    }

    private static Dictionary<string, string> Parse(string manifest, string source)
    {
        var lines = manifest.Split('\n');
        if (lines[0] != Header)
        {
            throw new UntrustedFileException(source, $"{source}:1: expected \"{Header}\"");
        }
        return Index(lines.Skip(1).Where(l => l.Length > 0));
    }

    /// <summary>Line by path (the path is the last field, escaped so it has no space).</summary>
    private static Dictionary<string, string> Index(IEnumerable<string> lines)
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            index[line[(line.LastIndexOf(' ') + 1)..]] = line;
        }
        return index;
    }

    private sealed record Difference(string Path, string Text);

    private static List<Difference> Compare(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        var differences = new List<Difference>();
        foreach (var path in expected.Keys.Concat(actual.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            bool inManifest = expected.TryGetValue(path, out var want);
            bool inTree = actual.TryGetValue(path, out var have);
            if (!inTree)
            {
                differences.Add(new(path, $"{path} is missing"));
            }
            else if (!inManifest)
            {
                differences.Add(new(path, $"{path} is not in the manifest"));
            }
            else if (want != have)
            {
                differences.Add(new(path, $"{path} differs ({WhatDiffers(want!, have!)})"));
            }
        }
        return differences;
    }

    private static string WhatDiffers(string want, string have)
    {
        var w = want.Split(' ');
        var h = have.Split(' ');
        string[] names = ["type", "mode", "owner", "group", "content"];
        var fields = Enumerable.Range(0, Math.Min(names.Length, Math.Min(w.Length, h.Length))).Where(i => w[i] != h[i]).Select(i => names[i]);
        return string.Join(", ", fields);
    }

    /// <summary>The entries under <paramref name="root"/>, depth first in ordinal name order; "." is the root itself.</summary>
    private static IEnumerable<string> Lines(string root)
    {
        var top = Files.Status(root) ?? throw new DirectoryNotFoundException($"{root} does not exist");
        if (!top.IsDirectory)
        {
            throw new UntrustedFileException(root, $"{root} is not a directory (a symlink or a file stands there): refused");
        }
        var pending = new Stack<string>();
        pending.Push(".");
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            var path = relative == "." ? root : Path.Combine(root, relative);
            var status = Files.Status(path) ?? throw new UntrustedFileException(path, $"{path} vanished while it was read");
            yield return Line(path, relative, status);
            if (status.IsDirectory)
            {
                var children = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal).Reverse();
                foreach (var child in children)
                {
                    pending.Push(relative == "." ? child! : relative + "/" + child);
                }
            }
        }
    }

    private static string Line(string path, string relative, FileStatus status)
    {
        var (type, content) = (status.Mode & FileTypes.Mask) switch
        {
            FileTypes.Directory => ('d', "-"),
            FileTypes.Regular => ('f', FileDigest(path)),
            FileTypes.Symlink => ('l', Escape(new FileInfo(path).LinkTarget ?? "")),
            FileTypes.CharDevice => ('c', $"{status.RdevMajor}:{status.RdevMinor}"),
            FileTypes.BlockDevice => ('b', $"{status.RdevMajor}:{status.RdevMinor}"),
            FileTypes.Fifo => ('p', "-"),
            _ => ('s', "-"),
        };
        var mode = Convert.ToString(status.Mode & 0xFFF, 8).PadLeft(4, '0');
        return string.Create(CultureInfo.InvariantCulture, $"{type} {mode} {status.Uid} {status.Gid} {content} {Escape(relative)}");
    }

    private static string FileDigest(string path)
    {
        using var stream = Files.OpenRegularFile(path);
        return DigestList.Hex(Sha256.HashStream(stream));
    }

    /// <summary>Spaces, '%' and control characters as %XX (UTF-8 bytes), so fields split on spaces and a line is one entry.</summary>
    private static string Escape(string text)
    {
        var escaped = new List<byte>(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b <= 0x20 || b == 0x7F || b == (byte)'%')
            {
                escaped.AddRange(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"%{b:X2}")));
            }
            else
            {
                escaped.Add(b);
            }
        }
        return Encoding.UTF8.GetString(escaped.ToArray());
    }
}

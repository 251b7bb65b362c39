using System.Globalization;
using InitOs.Sys;

namespace InitOs.Init.Trust;

/// <summary>
/// SHA-256 digests of files, relative to one directory, in sha256sum's format ("HEX  PATH" a
/// line). The build writes one into the signed initramfs for what it stages on the unsigned
/// data volume; at boot <see cref="CopyVerified"/> copies those files somewhere only PID 1
/// writes, hashing while it copies, so what is run is exactly what was checked.
/// </summary>
public sealed class DigestList
{
    private const int HexLength = 64;

    private DigestList(string source, IReadOnlyList<Entry> entries)
    {
        Source = source;
        Entries = entries;
    }

    public sealed record Entry(string Path, string Sha256);

    /// <summary>Where the list came from, for messages (the file in the initramfs).</summary>
    public string Source { get; }
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>The digests of <paramref name="files"/> (relative path → the file to hash), in path order.</summary>
    public static DigestList Of(IEnumerable<KeyValuePair<string, string>> files, string source) =>
        new(source, files
            .Select(f => new Entry(CheckedPath(f.Key) ?? throw new ArgumentException($"{f.Key}: not a relative path inside the directory"), Hex(Sha256.HashFile(f.Value))))
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ToList());

    public static DigestList Parse(string text, string source)
    {
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
            {
                continue;
            }
            string where = $"{source}:{i + 1}";
            if (line.Length < HexLength + 3 || line[HexLength] != ' ' || line[HexLength + 1] != ' ' || !IsLowerHex(line.AsSpan(0, HexLength)))
            {
                throw new InvalidDataException($"{where}: expected \"<64 lowercase hex digits>  <path>\"");
            }
            var path = CheckedPath(line[(HexLength + 2)..]) ?? throw new InvalidDataException($"{where}: \"{line[(HexLength + 2)..]}\" is not a relative path inside the directory");
            if (!seen.Add(path))
            {
                throw new InvalidDataException($"{where}: {path} is listed twice");
            }
            entries.Add(new Entry(path, line[..HexLength]));
        }
        return entries.Count > 0 ? new DigestList(source, entries) : throw new InvalidDataException($"{source}: lists no files");
    }

    public string Format() => string.Concat(Entries.Select(e => $"{e.Sha256}  {e.Path}\n"));

    /// <summary>
    /// Copies every listed file from <paramref name="from"/> to a new <paramref name="to"/>
    /// (what was there goes first), checking each digest as it copies; files not listed are
    /// not copied. A missing, non-regular or different file stops the copy, and the message
    /// names it. <paramref name="executable"/> picks the files that get mode 0755 (else 0644).
    /// </summary>
    public long CopyVerified(string from, string to, Func<string, bool> executable)
    {
        if (Directory.Exists(to))
        {
            Directory.Delete(to, recursive: true);
        }
        Directory.CreateDirectory(to);
        long bytes = 0;
        foreach (var entry in Entries)
        {
            bytes += CopyOne(entry, Path.Combine(from, entry.Path), Path.Combine(to, entry.Path), executable(entry.Path));
        }
        return bytes;
    }

    private long CopyOne(Entry entry, string source, string target, bool executable)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".part";
        var sha = new Sha256();
        long bytes = 0;
        try
        {
            using var input = OpenSource(source);
            using var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                sha.Append(buffer.AsSpan(0, n));
                output.Write(buffer, 0, n);
                bytes += n;
            }
        }
        catch (UntrustedFileException)
        {
            File.Delete(partial);
            throw;
        }
        var actual = Hex(sha.Finish());
        if (actual != entry.Sha256)
        {
            File.Delete(partial);
            throw new UntrustedFileException(source, $"{source}: its SHA-256 is {actual[..16]}…, not the {entry.Sha256[..16]}… that the signed {Source} holds for {entry.Path}: refused");
        }
        File.SetUnixFileMode(partial, executable ? (UnixFileMode)Permissions.Octal0755 : (UnixFileMode)Permissions.Octal0644);
        File.Move(partial, target);
        return bytes;
    }

    /// <summary>The last component is not followed, and only a regular file is read (never a device or a FIFO).</summary>
    private FileStream OpenSource(string source)
    {
        try
        {
            return Files.OpenRegularFile(source);
        }
        catch (Exception e) when (e is SysException or IOException)
        {
            var why = Files.Status(source) is null ? "it is missing" : e.Message;
            throw new UntrustedFileException(source, $"{source}: {why} (the signed {Source} lists it): refused");
        }
    }

    /// <summary>A path of plain components under the directory: no "/", "." or ".." at either end or inside.</summary>
    private static string? CheckedPath(string path) =>
        path.Length > 0 && !path.StartsWith('/') && path.Split('/').All(p => p.Length > 0 && p is not "." and not "..") && !path.Contains('\0', StringComparison.Ordinal)
            ? path
            : null;

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }
        return true;
    }

    internal static string Hex(byte[] digest) => Convert.ToHexStringLower(digest);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Source}: {Entries.Count} files");
}

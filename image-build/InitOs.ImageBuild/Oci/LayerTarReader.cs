using System.Globalization;
using System.Text;

namespace InitOs.ImageBuild.Oci;

/// <summary>
/// Reads a layer's tar (ustar, POSIX pax and GNU long names, as docker, buildah, umoci and GNU
/// tar write them) one entry at a time from a stream that need not seek. Its own reader rather
/// than System.Formats.Tar: pax values are bytes, and an extended attribute such as
/// security.capability is binary, which a reader that decodes values as UTF-8 would corrupt.
/// A layer is hostile input: every header's checksum is checked, ".." and absolute link
/// escapes are the applier's business, and a pax header or long name over 1 MiB is refused.
/// </summary>
public sealed class LayerTarReader
{
    private const int Block = 512;
    private const int LargestExtendedHeader = 1 << 20;
    private const string XattrPrefix = "SCHILY.xattr.";

    private readonly Stream _stream;
    private readonly string _source;
    private readonly byte[] _header = new byte[Block];
    private readonly Dictionary<string, byte[]> _global = new(StringComparer.Ordinal);
    private long _unread;
    private int _padding;
    private long _offset;

    public LayerTarReader(Stream stream, string source)
    {
        _stream = stream;
        _source = source;
    }

    /// <summary>The next entry, its data ready in <see cref="CopyData"/>; null at the end of the archive.</summary>
    public LayerEntry? Next()
    {
        SkipRest();
        Dictionary<string, byte[]>? pax = null;
        string? longName = null, longLink = null;
        for (;;)
        {
            long headerOffset = _offset;
            if (!ReadBlock(_header, allowEnd: true) || IsZero(_header))
            {
                return null;
            }
            CheckChecksum(headerOffset);
            char type = (char)_header[156];
            long size = Number(124, 12, headerOffset, "size");
            switch (type)
            {
                case 'x':
                    pax = ParsePax(ReadExtended(size, headerOffset, "pax header"), headerOffset);
                    continue;
                case 'g':
                    foreach (var (key, value) in ParsePax(ReadExtended(size, headerOffset, "pax global header"), headerOffset))
                    {
                        _global[key] = value;
                    }
                    continue;
                case 'L':
                    longName = CString(ReadExtended(size, headerOffset, "GNU long name"));
                    continue;
                case 'K':
                    longLink = CString(ReadExtended(size, headerOffset, "GNU long link name"));
                    continue;
            }
            return Entry(type, size, headerOffset, Merge(pax), longName, longLink);
        }
    }

    /// <summary>Copies the current entry's data (its whole size) to <paramref name="destination"/>.</summary>
    public void CopyData(Stream destination)
    {
        var buffer = new byte[Math.Min(1 << 20, Math.Max(_unread, 1))];
        while (_unread > 0)
        {
            int n = _stream.Read(buffer, 0, (int)Math.Min(buffer.Length, _unread));
            if (n <= 0)
            {
                throw Truncated();
            }
            destination.Write(buffer, 0, n);
            _unread -= n;
            _offset += n;
        }
    }

    private LayerEntry Entry(char type, long size, long headerOffset, Dictionary<string, byte[]> pax, string? longName, string? longLink)
    {
        var path = Text(pax, "path") ?? longName ?? HeaderName();
        var kind = type switch
        {
            '0' or '\0' or '7' => LayerEntryType.File,
            '1' => LayerEntryType.HardLink,
            '2' => LayerEntryType.Symlink,
            '3' => LayerEntryType.CharDevice,
            '4' => LayerEntryType.BlockDevice,
            '5' => LayerEntryType.Directory,
            '6' => LayerEntryType.Fifo,
            _ => throw Bad(headerOffset, $"{path}: tar entry type '{type}' is not one a layer may hold (file, link, symlink, device, directory, fifo)"),
        };
        if (kind == LayerEntryType.File && path.EndsWith('/'))
        {
            kind = LayerEntryType.Directory;
        }
        size = Text(pax, "size") is { } paxSize ? ParseDecimal(paxSize, headerOffset, "pax size") : size;
        // Whatever data follows is skipped for other types; only a file's data is its content.
        _unread = size;
        _padding = (int)((Block - size % Block) % Block);
        var (seconds, nanoseconds) = Text(pax, "mtime") is { } mtime ? ParseTime(mtime, headerOffset) : (Number(136, 12, headerOffset, "mtime"), 0);
        return new LayerEntry(
            Path: CleanPath(path, headerOffset),
            Type: kind,
            Mode: (uint)(Number(100, 8, headerOffset, "mode") & 0xFFF),
            Uid: (uint)(Text(pax, "uid") is { } uid ? ParseDecimal(uid, headerOffset, "pax uid") : Number(108, 8, headerOffset, "uid")),
            Gid: (uint)(Text(pax, "gid") is { } gid ? ParseDecimal(gid, headerOffset, "pax gid") : Number(116, 8, headerOffset, "gid")),
            Size: kind == LayerEntryType.File ? size : 0,
            MTimeSeconds: seconds,
            MTimeNanoseconds: nanoseconds,
            LinkName: Text(pax, "linkpath") ?? longLink ?? Field(157, 100),
            DevMajor: (uint)Number(329, 8, headerOffset, "devmajor"),
            DevMinor: (uint)Number(337, 8, headerOffset, "devminor"),
            Xattrs: pax.Where(p => p.Key.StartsWith(XattrPrefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[XattrPrefix.Length..], p => p.Value, StringComparer.Ordinal));
    }

    /// <summary>ustar's name, joined to its prefix field when the magic says POSIX ("ustar\0"); GNU's has no prefix there.</summary>
    private string HeaderName()
    {
        var name = Field(0, 100);
        bool posix = _header.AsSpan(257, 6).SequenceEqual("ustar\0"u8);
        var prefix = posix ? Field(345, 155) : "";
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    /// <summary>"./a/b/" → "a/b"; "." or "./" → "" (the root). A ".." component is refused: a layer names paths inside its image.</summary>
    private string CleanPath(string path, long headerOffset)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains("..") || path.Contains('\0', StringComparison.Ordinal))
        {
            throw Bad(headerOffset, $"{path}: a path with \"..\" (or a NUL) is not one a layer may name");
        }
        return string.Join('/', parts);
    }

    private Dictionary<string, byte[]> Merge(Dictionary<string, byte[]>? local)
    {
        if (_global.Count == 0)
        {
            return local ?? new Dictionary<string, byte[]>(StringComparer.Ordinal);
        }
        var merged = new Dictionary<string, byte[]>(_global, StringComparer.Ordinal);
        foreach (var (key, value) in local ?? [])
        {
            merged[key] = value;
        }
        return merged;
    }

    private static string? Text(Dictionary<string, byte[]> pax, string key) => pax.TryGetValue(key, out var value) ? Encoding.UTF8.GetString(value) : null;

    /// <summary>pax records: "LENGTH key=value\n", LENGTH counting the whole record; values kept as bytes.</summary>
    private Dictionary<string, byte[]> ParsePax(byte[] data, long headerOffset)
    {
        var records = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int at = 0;
        while (at < data.Length)
        {
            int space = Array.IndexOf(data, (byte)' ', at);
            if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(data, at, space - at), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length <= space - at || at + length > data.Length || data[at + length - 1] != (byte)'\n')
            {
                throw Bad(headerOffset, $"pax header: a malformed record at byte {at}");
            }
            int equals = Array.IndexOf(data, (byte)'=', space + 1, at + length - space - 1);
            if (equals < 0)
            {
                throw Bad(headerOffset, $"pax header: a record without '=' at byte {at}");
            }
            var key = Encoding.UTF8.GetString(data, space + 1, equals - space - 1);
            records[key] = data[(equals + 1)..(at + length - 1)];
            at += length;
        }
        return records;
    }

    private byte[] ReadExtended(long size, long headerOffset, string what)
    {
        if (size is < 0 or > LargestExtendedHeader)
        {
            throw Bad(headerOffset, $"{what} of {size} bytes (at most {LargestExtendedHeader})");
        }
        var data = new byte[size];
        ReadExactly(data);
        var padding = new byte[(Block - size % Block) % Block];
        ReadExactly(padding);
        return data;
    }

    private void SkipRest()
    {
        CopyData(Stream.Null);
        var padding = new byte[_padding];
        ReadExactly(padding);
        _padding = 0;
    }

    private bool ReadBlock(byte[] block, bool allowEnd)
    {
        int read = _stream.ReadAtLeast(block, block.Length, throwOnEndOfStream: false);
        _offset += read;
        return read == block.Length || (read == 0 && allowEnd) ? read == block.Length : throw Truncated();
    }

    private void ReadExactly(byte[] data)
    {
        if (_stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) != data.Length)
        {
            throw Truncated();
        }
        _offset += data.Length;
    }

    private void CheckChecksum(long headerOffset)
    {
        long stored = Number(148, 8, headerOffset, "checksum");
        long unsigned = 0, signed = 0;
        for (int i = 0; i < Block; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : _header[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        if (stored != unsigned && stored != signed)
        {
            throw Bad(headerOffset, $"header checksum {stored} does not match its bytes ({unsigned})");
        }
    }

    /// <summary>A numeric field: octal text (spaces and NULs around it), or GNU's base-256 when the high bit of its first byte is set.</summary>
    private long Number(int offset, int width, long headerOffset, string field)
    {
        var span = _header.AsSpan(offset, width);
        if ((span[0] & 0x80) != 0)
        {
            if ((span[0] & 0x40) != 0)
            {
                throw Bad(headerOffset, $"{field}: a negative base-256 number");
            }
            long value = span[0] & 0x3F;
            foreach (var b in span[1..])
            {
                value = checked((value << 8) | b);
            }
            return value;
        }
        var text = Encoding.ASCII.GetString(span).Trim(' ', '\0');
        long result = 0;
        foreach (var c in text)
        {
            result = c is >= '0' and <= '7' ? checked((result * 8) + (c - '0')) : throw Bad(headerOffset, $"{field}: \"{text}\" is not an octal number");
        }
        return result;
    }

    private long ParseDecimal(string text, long headerOffset, string field) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw Bad(headerOffset, $"{field}: \"{text}\" is not a number");

    /// <summary>A pax time: seconds with an optional fraction ("1700000000.123456789").</summary>
    private (long Seconds, int Nanoseconds) ParseTime(string text, long headerOffset)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        long seconds = long.TryParse(dot < 0 ? text : text[..dot], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? s : throw Bad(headerOffset, $"pax mtime: \"{text}\" is not a time");
        if (dot < 0)
        {
            return (seconds, 0);
        }
        var fraction = text[(dot + 1)..].PadRight(9, '0')[..9];
        return int.TryParse(fraction, NumberStyles.None, CultureInfo.InvariantCulture, out var ns) ? (seconds, ns) : throw Bad(headerOffset, $"pax mtime: \"{text}\" is not a time");
    }

    private string Field(int offset, int width)
    {
        var span = _header.AsSpan(offset, width);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    private static string CString(byte[] data)
    {
        int end = Array.IndexOf(data, (byte)0);
        return Encoding.UTF8.GetString(data, 0, end < 0 ? data.Length : end);
    }

    private static bool IsZero(byte[] block) => !block.AsSpan().ContainsAnyExcept((byte)0);

    private InvalidDataException Bad(long headerOffset, string message) => new($"{_source}: tar header at byte {headerOffset}: {message}");

    private InvalidDataException Truncated() => new($"{_source}: the tar ends in the middle of an entry (at byte {_offset})");
}

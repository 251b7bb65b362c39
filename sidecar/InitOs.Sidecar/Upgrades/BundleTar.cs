using System.Text;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// A bundle as one file or stream: the OCI layout's files in a POSIX ustar archive (GNU tar and
/// every OCI tool read it), written in the order a reader checks them and with every header
/// field fixed (mode 0644, owner 0, time 0), so the reader can demand each header's exact bytes,
/// zero padding, and the two zero blocks at the end: a flipped bit in the container is found
/// as surely as one in a signed part.
/// </summary>
public static class BundleTar
{
    public const int Block = 512;
    /// <summary>The largest member a ustar size field holds (11 octal digits).</summary>
    public const long LargestMember = (1L << 33) - 1;

    public static byte[] Header(string name, long size)
    {
        if (Encoding.ASCII.GetByteCount(name) > 100 || size is < 0 or > LargestMember)
        {
            throw new ArgumentException($"tar member {name} ({size} bytes) does not fit a ustar header");
        }
        var header = new byte[Block];
        Encoding.ASCII.GetBytes(name, header);
        Octal(header, 100, 8, 0x1A4);
        Octal(header, 108, 8, 0);
        Octal(header, 116, 8, 0);
        Octal(header, 124, 12, size);
        Octal(header, 136, 12, 0);
        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0", header.AsSpan(257));
        Encoding.ASCII.GetBytes("00", header.AsSpan(263));
        Octal(header, 329, 8, 0);
        Octal(header, 337, 8, 0);
        // The checksum is the sum of the header's bytes with its own field read as spaces.
        "        "u8.CopyTo(header.AsSpan(148));
        int sum = header.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", header.AsSpan(148));
        return header;
    }

    public static int Padding(long size) => (int)((Block - size % Block) % Block);

    /// <summary>Writes one member: header, data, zero padding.</summary>
    public static void WriteMember(Stream output, string name, Stream data, long size)
    {
        output.Write(Header(name, size));
        long copied = 0;
        var buffer = new byte[1 << 20];
        int n;
        while (copied < size && (n = data.Read(buffer, 0, (int)Math.Min(buffer.Length, size - copied))) > 0)
        {
            output.Write(buffer, 0, n);
            copied += n;
        }
        if (copied != size)
        {
            throw new IOException($"tar member {name}: {copied} bytes read of {size}");
        }
        output.Write(new byte[Padding(size)]);
    }

    public static void WriteEnd(Stream output) => output.Write(new byte[2 * Block]);

    private static void Octal(byte[] header, int offset, int width, long value)
    {
        var digits = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(digits + "\0", header.AsSpan(offset, width));
    }

    /// <summary>The name and size a header gives, when its bytes are exactly the canonical header of those; else null.</summary>
    public static (string Name, long Size)? ReadHeader(ReadOnlySpan<byte> header)
    {
        int end = header[..100].IndexOf((byte)0);
        var name = Encoding.ASCII.GetString(header[..(end < 0 ? 100 : end)]);
        var sizeText = Encoding.ASCII.GetString(header.Slice(124, 11));
        if (!name.All(c => c is > ' ' and < (char)127) || !sizeText.All(c => c is >= '0' and <= '7'))
        {
            return null;
        }
        long size = Convert.ToInt64(sizeText, 8);
        return Header(name, size).AsSpan().SequenceEqual(header) ? (name, size) : null;
    }
}

using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace InitOs.ImageBuild.Cpio;

/// <summary>
/// Reads one file out of an initramfs the way the kernel unpacks it: uncompressed newc
/// archives (the early microcode one) one after another, zero padding between them, and then
/// a gzip or zstd stream holding the main archive. `initos build uki` takes the image's
/// os-release from here, so the UKI's .osrel and the initramfs cannot disagree.
/// </summary>
public static class InitramfsReader
{
    private const int HeaderLength = 110;

    /// <summary>The content of <paramref name="name"/> (a path without a leading '/'), or null when the initramfs has none.</summary>
    public static byte[]? Find(string initramfs, string name)
    {
        var bytes = File.ReadAllBytes(initramfs);
        int offset = 0;
        byte[]? found = null;
        while (offset < bytes.Length)
        {
            if (bytes[offset] == 0)
            {
                offset++;
                continue;
            }
            if (IsNewc(bytes, offset))
            {
                offset = Walk(bytes, offset, name, ref found, initramfs);
                continue;
            }
            var archive = Decompress(bytes.AsSpan(offset), initramfs, offset);
            Walk(archive, 0, name, ref found, initramfs);
            break;
        }
        return found;
    }

    private static bool IsNewc(byte[] bytes, int offset) =>
        offset + 6 <= bytes.Length && bytes.AsSpan(offset, 6).SequenceEqual("070701"u8);

    private static byte[] Decompress(ReadOnlySpan<byte> data, string file, int offset)
    {
        if (data.StartsWith(new byte[] { 0x1f, 0x8b }))
        {
            using var gzip = new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress);
            var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        if (data.StartsWith(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }))
        {
            using var zstd = new ZstdSharp.Decompressor();
            return zstd.Unwrap(data).ToArray();
        }
        throw new InvalidDataException($"{file}: at byte {offset}, neither a newc cpio archive nor gzip or zstd data");
    }

    /// <summary>Walks one newc archive to its trailer; returns the offset after it. The last entry of a name wins, as when the kernel unpacks.</summary>
    private static int Walk(byte[] bytes, int offset, string name, ref byte[]? found, string file)
    {
        while (true)
        {
            if (!IsNewc(bytes, offset) || offset + HeaderLength > bytes.Length)
            {
                throw new InvalidDataException($"{file}: a cpio header expected at byte {offset}");
            }
            int nameSize = Field(bytes, offset, 11);
            int fileSize = Field(bytes, offset, 6);
            int nameStart = offset + HeaderLength;
            var entry = Encoding.UTF8.GetString(bytes, nameStart, Math.Max(0, nameSize - 1));
            int dataStart = Align(nameStart + nameSize);
            if (dataStart + fileSize > bytes.Length)
            {
                throw new InvalidDataException($"{file}: entry {entry} runs past the end");
            }
            offset = Align(dataStart + fileSize);
            if (entry == "TRAILER!!!")
            {
                return offset;
            }
            if (entry.TrimStart('.', '/') == name)
            {
                found = bytes.AsSpan(dataStart, fileSize).ToArray();
            }
        }
    }

    private static int Field(byte[] bytes, int offset, int index) =>
        int.Parse(Encoding.ASCII.GetString(bytes, offset + 6 + (index * 8), 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static int Align(int offset) => (offset + 3) & ~3;
}

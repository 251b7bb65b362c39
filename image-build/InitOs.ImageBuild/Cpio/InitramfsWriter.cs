using System.IO.Compression;

namespace InitOs.ImageBuild.Cpio;

public enum Compression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>An archive compressed the way the kernel unpacks an initramfs (both codecs are built into Debian's kernel).</summary>
public static class InitramfsWriter
{
    public static void Write(CpioArchive archive, Stream output, Compression compression, long mtime, int zstdLevel = 19)
    {
        switch (compression)
        {
            case Compression.None:
                archive.WriteTo(output, mtime);
                break;
            case Compression.Gzip:
                using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
                {
                    archive.WriteTo(gzip, mtime);
                }
                break;
            case Compression.Zstd:
                var raw = new MemoryStream();
                archive.WriteTo(raw, mtime);
                using (var compressor = new ZstdSharp.Compressor(zstdLevel))
                {
                    output.Write(compressor.Wrap(raw.GetBuffer().AsSpan(0, (int)raw.Length)));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown compression");
        }
    }
}

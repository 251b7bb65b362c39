using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace InitOs.Init.Devices;

/// <summary>One partition as the kernel numbers it, with the identifiers root= can name.</summary>
public sealed record PartitionEntry(int Number, Guid TypeGuid, string PartUuid, string? PartLabel, long FirstLba, long LastLba);

/// <summary>GPT (with MBR as the fallback) read the way the kernel and blkid read it.</summary>
public static class PartitionTable
{
    private const int MaxGptEntries = 1024;

    public static IReadOnlyList<PartitionEntry> Read(Stream disk, int sectorSize = 512)
    {
        var mbr = FilesystemProbe.Read(disk, 0, 512);
        if (mbr is null || mbr[510] != 0x55 || mbr[511] != 0xAA)
        {
            return [];
        }
        return IsProtective(mbr) ? ReadGpt(disk, sectorSize) : ReadMbr(mbr);
    }

    private static bool IsProtective(byte[] mbr)
    {
        for (int i = 0; i < 4; i++)
        {
            if (mbr[446 + i * 16 + 4] == 0xEE)
            {
                return true;
            }
        }
        return false;
    }

    private static List<PartitionEntry> ReadGpt(Stream disk, int sectorSize)
    {
        var header = FilesystemProbe.Read(disk, sectorSize, 92);
        if (header is null || !header.AsSpan(0, 8).SequenceEqual("EFI PART"u8))
        {
            return [];
        }
        long entriesLba = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(72));
        int count = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80)), MaxGptEntries);
        int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84));
        if (size < 128 || size > 4096)
        {
            return [];
        }
        var entries = FilesystemProbe.Read(disk, entriesLba * sectorSize, count * size);
        if (entries is null)
        {
            return [];
        }
        var result = new List<PartitionEntry>();
        for (int i = 0; i < count; i++)
        {
            var entry = entries.AsSpan(i * size, size);
            var type = new Guid(entry[..16]);
            if (type == Guid.Empty)
            {
                continue;
            }
            var name = Encoding.Unicode.GetString(entry.Slice(56, 72)).TrimEnd('\0');
            result.Add(new PartitionEntry(i + 1, type, new Guid(entry.Slice(16, 16)).ToString(),
                name.Length == 0 ? null : name,
                BinaryPrimitives.ReadInt64LittleEndian(entry[32..]), BinaryPrimitives.ReadInt64LittleEndian(entry[40..])));
        }
        return result;
    }

    /// <summary>Primary MBR partitions; PARTUUID is the disk signature and the number, as the kernel prints it.</summary>
    private static List<PartitionEntry> ReadMbr(byte[] mbr)
    {
        uint signature = BinaryPrimitives.ReadUInt32LittleEndian(mbr.AsSpan(440));
        var result = new List<PartitionEntry>();
        for (int i = 0; i < 4; i++)
        {
            var entry = mbr.AsSpan(446 + i * 16, 16);
            uint start = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            uint sectors = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
            if (entry[4] == 0 || sectors == 0)
            {
                continue;
            }
            var partUuid = string.Create(CultureInfo.InvariantCulture, $"{signature:x8}-{i + 1:x2}");
            result.Add(new PartitionEntry(i + 1, Guid.Empty, partUuid, null, start, start + sectors - 1));
        }
        return result;
    }
}

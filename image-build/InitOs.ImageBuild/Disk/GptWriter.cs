using System.Buffers.Binary;
using System.Text;
using InitOs.Sys;

namespace InitOs.ImageBuild.Disk;

/// <summary>
/// Writes a GPT disk image: protective MBR, primary header and entry array, the partitions at
/// 1 MiB boundaries with their content, and the backup array and header at the end. The disk
/// GUID and partition GUIDs come from the caller, so the same inputs give the same bytes.
/// </summary>
public static class GptWriter
{
    private const int Sector = 512, EntryCount = 128, EntrySize = 128, EntrySectors = EntryCount * EntrySize / Sector;
    private const long Alignment = 1 << 20;

    public static void Write(string output, Guid diskId, IReadOnlyList<GptPartition> partitions)
    {
        var placed = Place(partitions);
        long end = placed.Count > 0 ? placed[^1].LastLba + 1 : 2048;
        long totalSectors = Align(end * Sector + (33 * Sector), Alignment) / Sector;
        var entries = Entries(placed);
        var temporary = output + ".tmp";
        using (var disk = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            disk.SetLength(totalSectors * Sector);
            WriteAt(disk, 0, ProtectiveMbr(totalSectors));
            WriteAt(disk, 1 * Sector, Header(diskId, totalSectors, entries, primary: true));
            WriteAt(disk, 2 * Sector, entries);
            WriteAt(disk, (totalSectors - 1 - EntrySectors) * Sector, entries);
            WriteAt(disk, (totalSectors - 1) * Sector, Header(diskId, totalSectors, entries, primary: false));
            foreach (var (partition, first, _) in placed)
            {
                disk.Seek(first * Sector, SeekOrigin.Begin);
                using var content = File.OpenRead(partition.ContentFile);
                content.CopyTo(disk);
            }
        }
        AtomicFile.Replace(temporary, output);
    }

    private sealed record Placed(GptPartition Partition, long FirstLba, long LastLba);

    private static List<Placed> Place(IReadOnlyList<GptPartition> partitions)
    {
        var placed = new List<Placed>();
        long next = Alignment;
        foreach (var partition in partitions)
        {
            long content = new FileInfo(partition.ContentFile).Length;
            if (content > partition.SizeBytes)
            {
                throw new InvalidOperationException($"partition {partition.Name}: {partition.ContentFile} ({content} bytes) does not fit in {partition.SizeBytes} bytes");
            }
            if (Encoding.Unicode.GetByteCount(partition.Name) > 72)
            {
                throw new InvalidOperationException($"partition name {partition.Name} is longer than 36 UTF-16 units");
            }
            long size = Align(partition.SizeBytes, Alignment);
            placed.Add(new Placed(partition, next / Sector, ((next + size) / Sector) - 1));
            next += size;
        }
        return placed;
    }

    private static byte[] Entries(List<Placed> placed)
    {
        var entries = new byte[EntryCount * EntrySize];
        for (int i = 0; i < placed.Count; i++)
        {
            var entry = entries.AsSpan(i * EntrySize, EntrySize);
            placed[i].Partition.Type.TryWriteBytes(entry);
            placed[i].Partition.Id.TryWriteBytes(entry[16..]);
            BinaryPrimitives.WriteInt64LittleEndian(entry[32..], placed[i].FirstLba);
            BinaryPrimitives.WriteInt64LittleEndian(entry[40..], placed[i].LastLba);
            Encoding.Unicode.GetBytes(placed[i].Partition.Name).CopyTo(entry[56..]);
        }
        return entries;
    }

    private static byte[] Header(Guid diskId, long totalSectors, byte[] entries, bool primary)
    {
        var header = new byte[Sector];
        var span = header.AsSpan();
        "EFI PART"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0x00010000);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], 92);
        long backup = totalSectors - 1;
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], primary ? 1 : backup);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], primary ? backup : 1);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], 2 + EntrySectors);
        BinaryPrimitives.WriteInt64LittleEndian(span[48..], backup - EntrySectors - 1);
        diskId.TryWriteBytes(span[56..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[72..], primary ? 2 : backup - EntrySectors);
        BinaryPrimitives.WriteUInt32LittleEndian(span[80..], EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[84..], EntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[88..], Crc32.Compute(entries));
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], Crc32.Compute(span[..92]));
        return header;
    }

    /// <summary>One 0xEE partition over the whole disk, so MBR-only tools leave it alone.</summary>
    private static byte[] ProtectiveMbr(long totalSectors)
    {
        var mbr = new byte[Sector];
        var entry = mbr.AsSpan(446);
        entry[1] = 0x00;
        entry[2] = 0x02; // CHS of LBA 1, as the spec asks
        entry[4] = 0xEE;
        entry[5] = 0xFF;
        entry[6] = 0xFF;
        entry[7] = 0xFF;
        BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)Math.Min(totalSectors - 1, uint.MaxValue));
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        return mbr;
    }

    private static void WriteAt(FileStream disk, long offset, byte[] data)
    {
        disk.Seek(offset, SeekOrigin.Begin);
        disk.Write(data);
    }

    private static long Align(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}

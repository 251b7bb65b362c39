using System.Buffers.Binary;
using System.Text;

namespace InitOs.Init.Devices;

/// <summary>What a superblock says: the type name blkid would print, the UUID and the label.</summary>
public sealed record FilesystemInfo(string Type, string? Uuid, string? Label);

/// <summary>
/// Reads just the superblocks InitOS needs to find a root (ext2/3/4, btrfs, xfs, vfat,
/// erofs, squashfs), md RAID members and a LUKS header (to find an encrypted volume by its UUID or label) — no
/// blkid in the initramfs. Names and formats follow blkid.
/// </summary>
public static class FilesystemProbe
{
    private delegate FilesystemInfo? Prober(Stream device);

    // Cheapest and most specific checks first; vfat last because its signature is the weakest.
    private static readonly Prober[] Probers = [Luks, MdMember, Ext, Erofs, Squashfs, Xfs, Btrfs, Vfat];

    public static FilesystemInfo? Probe(Stream device)
    {
        foreach (var probe in Probers)
        {
            var info = probe(device);
            if (info is not null)
            {
                return info;
            }
        }
        return null;
    }

    /// <summary>
    /// A LUKS header ("LUKS\xba\xbe", version 1 or 2): blkid's "crypto_LUKS", the UUID as the
    /// header stores it (text, 40 bytes at 0xA8), LUKS2's label (48 bytes at 0x18).
    /// </summary>
    private static ReadOnlySpan<byte> LuksMagic => [(byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xBA, 0xBE];

    private static FilesystemInfo? Luks(Stream device)
    {
        var header = Read(device, 0, 0xD0);
        if (header is null || !header.AsSpan(0, 6).SequenceEqual(LuksMagic))
        {
            return null;
        }
        int version = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6));
        return new FilesystemInfo("crypto_LUKS", Text(header.AsSpan(0xA8, 40)), version == 2 ? Text(header.AsSpan(0x18, 48)) : null);
    }

    /// <summary>An md RAID member: blkid's "linux_raid_member", the array's UUID, its name as the label.</summary>
    private static FilesystemInfo? MdMember(Stream device) =>
        MdSuperblock.Read(device) is { } md ? new FilesystemInfo("linux_raid_member", md.BlkidUuid, md.Name.Length == 0 ? null : md.Name) : null;

    private static FilesystemInfo? Ext(Stream device)
    {
        var sb = Read(device, 1024, 1024);
        if (sb is null || BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(0x38)) != 0xEF53)
        {
            return null;
        }
        uint compat = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x5C));
        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x60));
        uint roCompat = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x64));
        return new FilesystemInfo(ExtType(compat, incompat, roCompat), Uuid(sb.AsSpan(0x68, 16)), Text(sb.AsSpan(0x78, 16)));
    }

    /// <summary>blkid's rule: features beyond ext3's make ext4; a journal without them ext3; else ext2.</summary>
    private static string ExtType(uint compat, uint incompat, uint roCompat)
    {
        const uint Ext3Incompat = 0x0002 | 0x0004 | 0x0008; // filetype, recover, journal_dev
        const uint Ext2RoCompat = 0x0001 | 0x0002 | 0x0004; // sparse_super, large_file, btree_dir
        bool beyondExt3 = (incompat & ~Ext3Incompat) != 0 || (roCompat & ~Ext2RoCompat) != 0;
        if (beyondExt3)
        {
            return "ext4";
        }
        return (compat & 0x0004) != 0 ? "ext3" : "ext2";
    }

    private static FilesystemInfo? Btrfs(Stream device)
    {
        var sb = Read(device, 0x10000, 0x1000);
        if (sb is null || !sb.AsSpan(0x40, 8).SequenceEqual("_BHRfS_M"u8))
        {
            return null;
        }
        return new FilesystemInfo("btrfs", Uuid(sb.AsSpan(0x20, 16)), Text(sb.AsSpan(0x12B, 256)));
    }

    private static FilesystemInfo? Xfs(Stream device)
    {
        var sb = Read(device, 0, 512);
        if (sb is null || !sb.AsSpan(0, 4).SequenceEqual("XFSB"u8))
        {
            return null;
        }
        return new FilesystemInfo("xfs", Uuid(sb.AsSpan(32, 16)), Text(sb.AsSpan(108, 12)));
    }

    private static FilesystemInfo? Erofs(Stream device)
    {
        var sb = Read(device, 1024, 128);
        if (sb is null || BinaryPrimitives.ReadUInt32LittleEndian(sb) != 0xE0F5E1E2)
        {
            return null;
        }
        return new FilesystemInfo("erofs", Uuid(sb.AsSpan(48, 16)), Text(sb.AsSpan(64, 16)));
    }

    private static FilesystemInfo? Squashfs(Stream device)
    {
        var sb = Read(device, 0, 96);
        return sb is not null && sb.AsSpan(0, 4).SequenceEqual("hsqs"u8) ? new FilesystemInfo("squashfs", null, null) : null;
    }

    private static FilesystemInfo? Vfat(Stream device)
    {
        var bs = Read(device, 0, 512);
        if (bs is null || bs[510] != 0x55 || bs[511] != 0xAA)
        {
            return null;
        }
        bool fat32 = bs.AsSpan(0x52, 5).SequenceEqual("FAT32"u8);
        bool fat1x = bs.AsSpan(0x36, 4).SequenceEqual("FAT1"u8);
        if (!fat32 && !fat1x)
        {
            return null;
        }
        int idAt = fat32 ? 0x43 : 0x27, labelAt = fat32 ? 0x47 : 0x2B;
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(bs.AsSpan(idAt));
        var label = RootDirectoryLabel(device, bs, fat32) ?? Text(bs.AsSpan(labelAt, 11));
        return new FilesystemInfo("vfat", $"{id >> 16:X4}-{id & 0xFFFF:X4}", label is "NO NAME" ? null : label);
    }

    /// <summary>blkid prefers the volume-label entry of the root directory over the boot sector's copy.</summary>
    private static string? RootDirectoryLabel(Stream device, byte[] bs, bool fat32)
    {
        int bytesPerSector = BinaryPrimitives.ReadUInt16LittleEndian(bs.AsSpan(0x0B));
        int sectorsPerCluster = bs[0x0D];
        int reserved = BinaryPrimitives.ReadUInt16LittleEndian(bs.AsSpan(0x0E));
        int fats = bs[0x10];
        int rootEntries = BinaryPrimitives.ReadUInt16LittleEndian(bs.AsSpan(0x11));
        long fatSize = fat32 ? BinaryPrimitives.ReadUInt32LittleEndian(bs.AsSpan(0x24)) : BinaryPrimitives.ReadUInt16LittleEndian(bs.AsSpan(0x16));
        if (bytesPerSector is < 512 or > 4096 || sectorsPerCluster == 0)
        {
            return null;
        }
        long rootStart = (reserved + fats * fatSize) * bytesPerSector;
        int rootBytes = rootEntries * 32;
        if (fat32)
        {
            // The FAT32 root directory is a cluster chain; its first cluster is enough for a label.
            long rootCluster = BinaryPrimitives.ReadUInt32LittleEndian(bs.AsSpan(0x2C));
            rootStart += (rootCluster - 2) * sectorsPerCluster * bytesPerSector;
            rootBytes = sectorsPerCluster * bytesPerSector;
        }
        var dir = Read(device, rootStart, Math.Min(rootBytes, 64 * 1024));
        if (dir is null)
        {
            return null;
        }
        for (int i = 0; i + 32 <= dir.Length; i += 32)
        {
            byte first = dir[i], attributes = dir[i + 11];
            if (first == 0)
            {
                break;
            }
            // 0x08 = volume label; 0x0F marks a long-file-name entry, which also has that bit.
            if (first != 0xE5 && (attributes & 0x0F) == 0x08)
            {
                return Text(dir.AsSpan(i, 11));
            }
        }
        return null;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/>, or null when the device is shorter.</summary>
    internal static byte[]? Read(Stream device, long offset, int length)
    {
        try
        {
            if (device.CanSeek && offset + length > device.Length && device.Length > 0)
            {
                return null;
            }
            device.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[length];
            device.ReadExactly(buffer);
            return buffer;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Big-endian 16 bytes as the usual 8-4-4-4-12 string; null when all zero.</summary>
    private static string? Uuid(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.ContainsAnyExcept((byte)0))
        {
            return null;
        }
        var hex = Convert.ToHexStringLower(bytes);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>A label field: up to the first NUL, trailing spaces trimmed; null when empty.</summary>
    private static string? Text(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        var text = Encoding.UTF8.GetString(nul >= 0 ? field[..nul] : field).TrimEnd(' ');
        return text.Length == 0 ? null : text;
    }
}

using System.Buffers.Binary;
using System.Text;

namespace InitOs.Init.Devices;

/// <summary>
/// An md RAID member's version-1 superblock (mdadm's default 1.2: 4 KiB into the member; 1.1:
/// at its start): the array's UUID (printed as mdadm does, four groups of eight hex digits), its
/// name, level, how many members it has and this member's role. Versions 0.90 and 1.0 keep the
/// superblock at the member's end and are not read (mdadm has made 1.2 since 2010).
/// </summary>
public sealed record MdSuperblock(string ArrayUuid, string Name, int Level, int RaidDisks, int Role, ulong Events)
{
    public const uint Magic = 0xa92b4efc;
    private static readonly long[] Offsets = [4096, 0];

    /// <summary>The array UUID as blkid prints it for a member (8-4-4-4-12), which LABEL/UUID specs compare with.</summary>
    public string BlkidUuid => new Guid(Convert.FromHexString(ArrayUuid.Replace(":", "", StringComparison.Ordinal)), bigEndian: true).ToString();

    public static MdSuperblock? Read(Stream device)
    {
        foreach (var offset in Offsets)
        {
            if (Read(device, offset) is { } superblock)
            {
                return superblock;
            }
        }
        return null;
    }

    private static MdSuperblock? Read(Stream device, long offset)
    {
        var sb = new byte[256 + 2 * 384];
        try
        {
            device.Position = offset;
            if (device.ReadAtLeast(sb, 256, throwOnEndOfStream: false) < 256)
            {
                return null;
            }
        }
        catch (IOException)
        {
            return null;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(sb) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(4)) != 1
            || (long)BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(144)) != offset / 512)
        {
            return null;
        }
        var uuid = Convert.ToHexStringLower(sb.AsSpan(16, 16));
        var name = Encoding.ASCII.GetString(sb.AsSpan(32, 32)).TrimEnd('\0');
        int level = BinaryPrimitives.ReadInt32LittleEndian(sb.AsSpan(72));
        int raidDisks = BinaryPrimitives.ReadInt32LittleEndian(sb.AsSpan(92));
        uint devNumber = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(160));
        uint maxDev = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(220));
        int role = devNumber < maxDev && 256 + 2 * devNumber + 2 <= sb.Length ? BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(256 + 2 * (int)devNumber)) : 0xffff;
        ulong events = BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(200));
        return new MdSuperblock(string.Join(':', Enumerable.Range(0, 4).Select(i => uuid.Substring(8 * i, 8))), name, level, raidDisks, role, events);
    }
}

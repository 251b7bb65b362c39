using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace InitOs.TestKit;

/// <summary>
/// md RAID1 members made without an md driver (the test hosts' kernels have none): each member is
/// a version-1.2 superblock 4 KiB in (as mdadm --create --metadata=1.2 writes it: the fields,
/// the device roles, the checksum) and the array's data from 1 MiB on, both halves identical and
/// marked in sync. `mdadm --examine` reads them (checked in the unit tests); the guest's kernel
/// assembles them.
/// </summary>
public static class MdImage
{
    private const long DataOffsetSectors = 2048;
    private const int SuperblockOffset = 4096;

    /// <summary>Writes <paramref name="members"/>, each holding <paramref name="dataImage"/>; returns the array UUID as mdadm prints it.</summary>
    public static string CreateRaid1(string dataImage, IReadOnlyList<string> members, string name)
    {
        var bytes = File.ReadAllBytes(dataImage);
        var data = new byte[(bytes.Length + 65535) / 65536 * 65536];   // the array's size in whole 64 KiB, zeros after the image
        bytes.CopyTo(data, 0);
        var arrayUuid = RandomNumberGenerator.GetBytes(16);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (int i = 0; i < members.Count; i++)
        {
            using var member = new FileStream(members[i], FileMode.Create, FileAccess.Write);
            member.SetLength(DataOffsetSectors * 512 + data.Length);
            member.Position = SuperblockOffset;
            member.Write(Superblock(arrayUuid, name, now, members.Count, i, data.Length / 512));
            member.Position = DataOffsetSectors * 512;
            member.Write(data);
        }
        var hex = Convert.ToHexStringLower(arrayUuid);
        return string.Join(':', Enumerable.Range(0, 4).Select(k => hex.Substring(8 * k, 8)));
    }

    private static byte[] Superblock(byte[] arrayUuid, string name, long time, int disks, int index, long dataSectors)
    {
        var sb = new byte[256 + 2 * disks];
        var s = sb.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, 0xa92b4efc);      // magic
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], 1);          // major version
        arrayUuid.CopyTo(s[16..]);                                     // set_uuid
        Encoding.ASCII.GetBytes(name).CopyTo(s[32..]);                 // set_name
        BinaryPrimitives.WriteUInt64LittleEndian(s[64..], (ulong)time); // ctime
        BinaryPrimitives.WriteUInt32LittleEndian(s[72..], 1);         // level: raid1
        BinaryPrimitives.WriteUInt64LittleEndian(s[80..], (ulong)dataSectors);   // size used of each member
        BinaryPrimitives.WriteUInt32LittleEndian(s[92..], (uint)disks);          // raid_disks
        BinaryPrimitives.WriteUInt64LittleEndian(s[128..], DataOffsetSectors);   // data_offset
        BinaryPrimitives.WriteUInt64LittleEndian(s[136..], (ulong)dataSectors);  // data_size
        BinaryPrimitives.WriteUInt64LittleEndian(s[144..], SuperblockOffset / 512); // super_offset
        BinaryPrimitives.WriteUInt32LittleEndian(s[160..], (uint)index);         // dev_number
        RandomNumberGenerator.GetBytes(16).CopyTo(s[168..]);                     // device_uuid
        BinaryPrimitives.WriteUInt64LittleEndian(s[192..], (ulong)time);         // utime
        BinaryPrimitives.WriteUInt64LittleEndian(s[200..], 1);                   // events
        BinaryPrimitives.WriteUInt64LittleEndian(s[208..], ulong.MaxValue);      // resync_offset: in sync
        BinaryPrimitives.WriteUInt32LittleEndian(s[220..], (uint)disks);         // max_dev
        for (int role = 0; role < disks; role++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s[(256 + 2 * role)..], (ushort)role);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(s[216..], Checksum(sb));
        return sb;
    }

    /// <summary>md's: the 32-bit little-endian words summed into 64 bits (the checksum field as 0), the carry folded in once.</summary>
    private static uint Checksum(byte[] sb)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 4 <= sb.Length; i += 4)
        {
            sum += i == 216 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(i));
        }
        if (sb.Length - i == 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(sb.AsSpan(i));
        }
        return (uint)((sum & 0xffffffff) + (sum >> 32));
    }
}

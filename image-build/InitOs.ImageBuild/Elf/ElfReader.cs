using System.Buffers.Binary;
using System.Text;

namespace InitOs.ImageBuild.Elf;

/// <summary>The interpreter (PT_INTERP) and DT_NEEDED entries of an ELF64 little-endian file.</summary>
public sealed record ElfDependencies(string? Interpreter, IReadOnlyList<string> Needed);

/// <summary>
/// Reads an ELF file's program headers and dynamic section — what the dynamic loader will
/// ask for — so the initramfs carries exactly those libraries, with no hard-coded list.
/// </summary>
public static class ElfReader
{
    private const uint PtLoad = 1, PtDynamic = 2, PtInterp = 3;
    private const long DtNull = 0, DtNeeded = 1, DtStrtab = 5;

    private sealed record Segment(uint Type, long Offset, long VirtualAddress, long FileSize);

    public static ElfDependencies Read(string path)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < 64 || !data.AsSpan(0, 4).SequenceEqual("\u007fELF"u8))
        {
            throw new InvalidDataException($"{path} is not an ELF file");
        }
        if (data[4] != 2 || data[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file (class {data[4]}, data {data[5]})");
        }
        var segments = ProgramHeaders(data, path);
        var interp = segments.FirstOrDefault(s => s.Type == PtInterp);
        var dynamic = segments.FirstOrDefault(s => s.Type == PtDynamic);
        string? interpreter = interp is null ? null : CString(data, interp.Offset, path);
        return new ElfDependencies(interpreter, dynamic is null ? [] : Needed(data, dynamic, segments, path));
    }

    private static List<Segment> ProgramHeaders(byte[] data, string path)
    {
        long phoff = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(0x20));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(0x36));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(0x38));
        if (phoff <= 0 || phoff + (long)phnum * phentsize > data.Length || phentsize < 56)
        {
            throw new InvalidDataException($"{path}: program headers out of range");
        }
        var segments = new List<Segment>();
        for (int i = 0; i < phnum; i++)
        {
            var ph = data.AsSpan((int)(phoff + i * phentsize), 56);
            segments.Add(new Segment(
                BinaryPrimitives.ReadUInt32LittleEndian(ph),
                BinaryPrimitives.ReadInt64LittleEndian(ph[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(ph[16..]),
                BinaryPrimitives.ReadInt64LittleEndian(ph[32..])));
        }
        return segments;
    }

    private static List<string> Needed(byte[] data, Segment dynamic, List<Segment> segments, string path)
    {
        var neededOffsets = new List<long>();
        long strtabAddress = -1;
        for (long at = dynamic.Offset; at + 16 <= dynamic.Offset + dynamic.FileSize && at + 16 <= data.Length; at += 16)
        {
            long tag = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan((int)at));
            long value = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan((int)at + 8));
            if (tag == DtNull) break;
            if (tag == DtNeeded) neededOffsets.Add(value);
            if (tag == DtStrtab) strtabAddress = value;
        }
        if (neededOffsets.Count == 0)
        {
            return [];
        }
        long strtab = FileOffset(strtabAddress, segments) ?? throw new InvalidDataException($"{path}: DT_STRTAB address {strtabAddress:x} is in no PT_LOAD segment");
        return neededOffsets.Select(o => CString(data, strtab + o, path)).ToList();
    }

    /// <summary>DT_STRTAB is a virtual address; the PT_LOAD segment that maps it gives the file offset.</summary>
    private static long? FileOffset(long address, List<Segment> segments)
    {
        foreach (var s in segments.Where(s => s.Type == PtLoad))
        {
            if (address >= s.VirtualAddress && address < s.VirtualAddress + s.FileSize)
            {
                return s.Offset + (address - s.VirtualAddress);
            }
        }
        return null;
    }

    private static string CString(byte[] data, long offset, string path)
    {
        if (offset < 0 || offset >= data.Length)
        {
            throw new InvalidDataException($"{path}: string offset {offset} out of range");
        }
        int end = Array.IndexOf(data, (byte)0, (int)offset);
        return Encoding.UTF8.GetString(data, (int)offset, (end < 0 ? data.Length : end) - (int)offset);
    }
}

using System.Buffers.Binary;
using System.Text;

namespace InitOs.ImageBuild.Kernel;

/// <summary>
/// A kernel module's .modinfo section (what `modinfo` prints): NUL-separated key=value
/// strings. The build reads "firmware" from it to pack the files a driver will ask for.
/// </summary>
public static class ModuleInfo
{
    /// <summary>Every value of <paramref name="key"/> in the module's .modinfo; none for a compressed module (Debian 12's are not).</summary>
    public static IReadOnlyList<string> Values(string modulePath, string key)
    {
        var bytes = File.ReadAllBytes(modulePath);
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F' || bytes[4] != 2)
        {
            return [];
        }
        var section = Section(bytes, ".modinfo", modulePath);
        var prefix = key + "=";
        return Encoding.UTF8.GetString(section).Split('\0')
            .Where(s => s.StartsWith(prefix, StringComparison.Ordinal))
            .Select(s => s[prefix.Length..])
            .ToList();
    }

    /// <summary>An ELF64 little-endian section by name (e_shoff@0x28, e_shentsize@0x3A, e_shnum@0x3C, e_shstrndx@0x3E).</summary>
    private static ReadOnlySpan<byte> Section(byte[] elf, string name, string path)
    {
        long tableOffset = BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        int namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3E));
        if (tableOffset <= 0 || entrySize < 64 || tableOffset + (long)entrySize * count > elf.Length || namesIndex >= count)
        {
            throw new InvalidDataException($"{path}: a malformed ELF section table");
        }
        ReadOnlySpan<byte> Header(int i) => elf.AsSpan((int)(tableOffset + (long)i * entrySize), entrySize);
        ReadOnlySpan<byte> Body(ReadOnlySpan<byte> header)
        {
            long offset = BinaryPrimitives.ReadInt64LittleEndian(header[0x18..]);
            long size = BinaryPrimitives.ReadInt64LittleEndian(header[0x20..]);
            return offset >= 0 && size >= 0 && offset + size <= elf.Length ? elf.AsSpan((int)offset, (int)size) : throw new InvalidDataException($"{path}: a section lies outside the file");
        }
        var names = Body(Header(namesIndex));
        var wanted = Encoding.ASCII.GetBytes(name + "\0");
        for (int i = 0; i < count; i++)
        {
            var header = Header(i);
            int nameOffset = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (nameOffset + wanted.Length <= names.Length && names.Slice(nameOffset, wanted.Length).SequenceEqual(wanted))
            {
                return Body(header);
            }
        }
        return [];
    }
}

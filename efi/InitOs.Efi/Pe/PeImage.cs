using System.Buffers.Binary;
using System.Text;

namespace InitOs.Efi.Pe;

/// <summary>
/// A PE32+ image as the UKI writer needs it: the headers' offsets and the fields it reads or
/// rewrites, and the section table. Parsing checks what a UEFI loader relies on and says what
/// is wrong with the file, by name.
/// </summary>
public sealed class PeImage
{
    public const ushort MachineX64 = 0x8664;
    private const ushort Pe32PlusMagic = 0x20B;
    private const int SecurityDirectory = 4;

    private PeImage(byte[] bytes, string source)
    {
        Bytes = bytes;
        Source = source;
    }

    public byte[] Bytes { get; }
    public string Source { get; }
    public int CoffOffset { get; private set; }
    public int OptionalHeaderOffset { get; private set; }
    public int SectionTableOffset { get; private set; }
    public ushort Machine { get; private set; }
    public uint TimeDateStamp { get; private set; }
    public uint PointerToSymbolTable { get; private set; }
    public uint NumberOfSymbols { get; private set; }
    public ulong ImageBase { get; private set; }
    public uint SectionAlignment { get; private set; }
    public uint FileAlignment { get; private set; }
    public uint SizeOfImage { get; private set; }
    public uint SizeOfHeaders { get; private set; }
    public uint NumberOfRvaAndSizes { get; private set; }
    public IReadOnlyList<PeSection> Sections { get; private set; } = [];

    /// <summary>The Authenticode signature (certificate table) size; non-zero means signed.</summary>
    public uint CertificateTableSize => NumberOfRvaAndSizes > SecurityDirectory ? U32(DataDirectoryOffset(SecurityDirectory) + 4) : 0;

    public int DataDirectoryOffset(int index) => OptionalHeaderOffset + 112 + (8 * index);

    public static PeImage Load(string path) => Parse(File.ReadAllBytes(path), path);

    public static PeImage Parse(byte[] bytes, string source)
    {
        var image = new PeImage(bytes, source);
        image.ReadHeaders();
        return image;
    }

    /// <summary>A section's bytes as stored in the file (SizeOfRawData, alignment padding included).</summary>
    public ReadOnlySpan<byte> RawData(PeSection section) =>
        Bytes.AsSpan((int)section.PointerToRawData, (int)Math.Min(section.SizeOfRawData, (uint)Bytes.Length - section.PointerToRawData));

    /// <summary>A section's meaningful bytes: its virtual size, as far as the file holds them.</summary>
    public ReadOnlySpan<byte> Content(PeSection section) =>
        RawData(section)[..(int)Math.Min(section.VirtualSize, section.SizeOfRawData)];

    public PeSection? Find(string name) => Sections.FirstOrDefault(s => s.Name == name);

    private void ReadHeaders()
    {
        Require(Bytes.Length >= 0x40 && Bytes[0] == 'M' && Bytes[1] == 'Z', "no MZ header: not a PE image");
        int pe = (int)U32(0x3C);
        Require(pe > 0 && pe + 24 <= Bytes.Length && U32(pe) == 0x00004550, "no PE signature at the offset the DOS header gives");
        CoffOffset = pe + 4;
        Machine = U16(CoffOffset);
        int sectionCount = U16(CoffOffset + 2);
        TimeDateStamp = U32(CoffOffset + 4);
        PointerToSymbolTable = U32(CoffOffset + 8);
        NumberOfSymbols = U32(CoffOffset + 12);
        int optionalSize = U16(CoffOffset + 16);
        OptionalHeaderOffset = CoffOffset + 20;
        Require(optionalSize >= 112 && OptionalHeaderOffset + optionalSize <= Bytes.Length, "optional header too small or cut off");
        Require(U16(OptionalHeaderOffset) == Pe32PlusMagic, "not PE32+ (64-bit)");
        ImageBase = U64(OptionalHeaderOffset + 24);
        SectionAlignment = U32(OptionalHeaderOffset + 32);
        FileAlignment = U32(OptionalHeaderOffset + 36);
        SizeOfImage = U32(OptionalHeaderOffset + 56);
        SizeOfHeaders = U32(OptionalHeaderOffset + 60);
        NumberOfRvaAndSizes = U32(OptionalHeaderOffset + 108);
        Require(IsPowerOfTwo(SectionAlignment) && IsPowerOfTwo(FileAlignment), "section or file alignment is not a power of two");
        SectionTableOffset = OptionalHeaderOffset + optionalSize;
        Require(SectionTableOffset + (sectionCount * PeSection.HeaderSize) <= Bytes.Length, "section table cut off");
        Sections = Enumerable.Range(0, sectionCount).Select(ReadSection).ToList();
    }

    private PeSection ReadSection(int index)
    {
        int at = SectionTableOffset + (index * PeSection.HeaderSize);
        var name = Encoding.ASCII.GetString(Bytes, at, 8).TrimEnd('\0');
        var section = new PeSection
        {
            Name = name,
            VirtualSize = U32(at + 8),
            VirtualAddress = U32(at + 12),
            SizeOfRawData = U32(at + 16),
            PointerToRawData = U32(at + 20),
            Characteristics = U32(at + 36),
        };
        Require(section.SizeOfRawData == 0 || section.RawEnd <= (ulong)Bytes.Length, $"section {name}'s data runs past the end of the file");
        return section;
    }

    private void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new PeFormatException($"{Source}: {message}");
        }
    }

    private static bool IsPowerOfTwo(uint value) => value != 0 && (value & (value - 1)) == 0;

    private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(at));

    private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(at));

    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan(at));
}

/// <summary>A PE file that is malformed, or one the UKI writer must not use; the message says which and why.</summary>
public sealed class PeFormatException(string message) : Exception(message);

using System.Buffers.Binary;
using System.Text;
using InitOs.Efi.Pe;

namespace InitOs.Efi.Uki;

/// <summary>
/// Writes a UKI from the systemd stub, without objcopy: the stub's headers and sections as they
/// are, its COFF symbol table dropped, an InitOS line added to its .sbat, and the payload sections
/// appended, each at an address computed from the stub (end of its last section, aligned), .linux
/// last as code with the kernel's own SizeOfImage as its virtual size. Refuses a signed stub,
/// names longer than 8 bytes, and sections that would overlap.
/// </summary>
public static class UkiWriter
{
    /// <summary>The payload sections in the order they are laid out; .linux must stay last.</summary>
    public static IReadOnlyList<NewSection> Payload(UkiSpec spec)
    {
        var sections = new List<NewSection>
        {
            new(".osrel", Encoding.UTF8.GetBytes(spec.OsRelease)),
            new(".cmdline", Encoding.UTF8.GetBytes(spec.Cmdline)),
        };
        AddFile(sections, ".splash", spec.Splash);
        AddFile(sections, ".dtb", spec.Devicetree);
        AddFile(sections, ".pcrpkey", spec.PcrPublicKey);
        AddFile(sections, ".pcrsig", spec.PcrSignature);
        sections.Add(new(".initrd", File.ReadAllBytes(spec.Initrd)));
        var kernel = File.ReadAllBytes(spec.Kernel);
        uint kernelImageSize = KernelImageSize(kernel, spec.Kernel);
        sections.Add(new(".linux", kernel, PeSection.ReadExecuteCode, Math.Max(kernelImageSize, (uint)kernel.Length)));
        return sections;
    }

    public static byte[] Build(UkiSpec spec) => Build(PeImage.Load(spec.Stub), Payload(spec), spec.SbatLine, spec.Timestamp);

    /// <summary>Writes to a temporary file and renames: a failed build never leaves half an image.</summary>
    public static void Write(UkiSpec spec, string output)
    {
        var bytes = Build(spec);
        var temporary = output + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, output, overwrite: true);
    }

    public static byte[] Build(PeImage stub, IReadOnlyList<NewSection> payload, string sbatLine, uint timestamp)
    {
        CheckStub(stub, payload);
        var headerRoom = HeaderRoom.For(stub, stub.Sections.Count + payload.Count);
        var layout = new UkiLayout(stub, headerRoom.Shift);
        var sbat = MergedSbat(stub, sbatLine);
        var stubSections = stub.Sections.Select(s => s with
        {
            PointerToRawData = s.SizeOfRawData > 0 ? s.PointerToRawData + headerRoom.Shift : s.PointerToRawData,
            VirtualSize = s.Name == ".sbat" && sbat is not null ? (uint)sbat.Length : s.VirtualSize,
        }).ToList();
        var placed = payload.Select(layout.Place).ToList();
        var headers = stubSections.Concat(placed.Select(p => p.Header)).ToList();
        CheckOverlaps(stub.Source, headers);

        var output = new byte[layout.FileEnd];
        stub.Bytes.AsSpan(0, stub.SectionTableOffset).CopyTo(output);
        for (int i = 0; i < stub.Sections.Count; i++)
        {
            stub.RawData(stub.Sections[i]).CopyTo(output.AsSpan((int)stubSections[i].PointerToRawData));
        }
        foreach (var (section, data) in placed)
        {
            data.CopyTo(output.AsSpan((int)section.PointerToRawData));
        }
        if (sbat is not null)
        {
            var moved = stubSections.First(s => s.Name == ".sbat");
            output.AsSpan((int)moved.PointerToRawData, (int)moved.SizeOfRawData).Clear();
            sbat.CopyTo(output.AsSpan((int)moved.PointerToRawData));
        }
        PatchHeaders(stub, output, headers, layout.ImageEnd, headerRoom.SizeOfHeaders, timestamp);
        return output;
    }

    private static void AddFile(List<NewSection> sections, string name, string? path)
    {
        if (path is not null)
        {
            sections.Add(new(name, File.ReadAllBytes(path)));
        }
    }

    /// <summary>The kernel's SizeOfImage: it needs that much memory, more than the file's length.</summary>
    private static uint KernelImageSize(byte[] kernel, string path)
    {
        try
        {
            return PeImage.Parse(kernel, path).SizeOfImage;
        }
        catch (PeFormatException e)
        {
            throw new PeFormatException($"{e.Message}: the kernel must be an EFI-stub image (bzImage with a PE header)");
        }
    }

    private static void CheckStub(PeImage stub, IReadOnlyList<NewSection> payload)
    {
        if (stub.Machine != PeImage.MachineX64)
        {
            throw new PeFormatException($"{stub.Source}: machine 0x{stub.Machine:x4} is not x86-64");
        }
        if (stub.CertificateTableSize != 0)
        {
            throw new PeFormatException($"{stub.Source}: the stub is already signed ({stub.CertificateTableSize} bytes of certificates); a UKI is signed as a whole, after it is written: use the unsigned stub");
        }
        foreach (var section in payload)
        {
            if (Encoding.ASCII.GetByteCount(section.Name) > 8)
            {
                throw new PeFormatException($"section name {section.Name} is longer than 8 bytes");
            }
            if (stub.Find(section.Name) is not null)
            {
                throw new PeFormatException($"{stub.Source}: already has a {section.Name} section; is it a UKI already?");
            }
        }
        if (payload.Count == 0 || payload[^1].Name != ".linux")
        {
            throw new PeFormatException(".linux must be the last section");
        }
    }

    /// <summary>The stub's .sbat with the InitOS line, written in place; null when the stub has no .sbat.</summary>
    private static byte[]? MergedSbat(PeImage stub, string line)
    {
        if (stub.Find(".sbat") is not { } sbat)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(stub.Content(sbat)).TrimEnd('\0');
        if (!text.EndsWith('\n'))
        {
            text += "\n";
        }
        var merged = Encoding.UTF8.GetBytes(text + line.TrimEnd('\n') + "\n");
        var next = stub.Sections.Where(s => s.VirtualAddress > sbat.VirtualAddress).Select(s => s.VirtualAddress).DefaultIfEmpty(uint.MaxValue).Min();
        long room = Math.Min(sbat.SizeOfRawData, (long)next - sbat.VirtualAddress);
        if (merged.Length > room)
        {
            throw new PeFormatException($"{stub.Source}: its .sbat has room for {room - text.Length} more bytes, and the line \"{line}\" needs {merged.Length - text.Length}");
        }
        return merged;
    }

    private static void CheckOverlaps(string source, List<PeSection> headers)
    {
        var byAddress = headers.OrderBy(h => h.VirtualAddress).ToList();
        for (int i = 1; i < byAddress.Count; i++)
        {
            var (a, b) = (byAddress[i - 1], byAddress[i]);
            if ((ulong)a.VirtualAddress + a.VirtualSize > b.VirtualAddress)
            {
                throw new PeFormatException($"{source}: sections {a.Name} and {b.Name} overlap in memory (0x{a.VirtualAddress:x}+0x{a.VirtualSize:x} > 0x{b.VirtualAddress:x})");
            }
        }
        var byOffset = headers.Where(h => h.SizeOfRawData > 0).OrderBy(h => h.PointerToRawData).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var (a, b) = (byOffset[i - 1], byOffset[i]);
            if (a.RawEnd > b.PointerToRawData)
            {
                throw new PeFormatException($"{source}: sections {a.Name} and {b.Name} overlap in the file");
            }
        }
    }

    private static void PatchHeaders(PeImage stub, byte[] output, List<PeSection> headers, uint sizeOfImage, uint sizeOfHeaders, uint timestamp)
    {
        var span = output.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[(stub.CoffOffset + 2)..], (ushort)headers.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(stub.CoffOffset + 4)..], timestamp);
        // The stub's COFF symbol table is not copied: debugging data that sbsign would see as a gap.
        BinaryPrimitives.WriteUInt32LittleEndian(span[(stub.CoffOffset + 8)..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(stub.CoffOffset + 12)..], 0);
        int optional = stub.OptionalHeaderOffset;
        BinaryPrimitives.WriteUInt32LittleEndian(span[(optional + 4)..], Sum(headers, PeSection.Code));
        BinaryPrimitives.WriteUInt32LittleEndian(span[(optional + 8)..], Sum(headers, PeSection.InitializedData));
        BinaryPrimitives.WriteUInt32LittleEndian(span[(optional + 56)..], sizeOfImage);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(optional + 60)..], sizeOfHeaders);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(optional + 64)..], 0); // CheckSum: not used by UEFI; sbsign recomputes it
        for (int i = 0; i < headers.Count; i++)
        {
            WriteSectionHeader(span[(stub.SectionTableOffset + (i * PeSection.HeaderSize))..], headers[i]);
        }
    }

    private static uint Sum(List<PeSection> headers, uint kind) =>
        (uint)headers.Where(h => (h.Characteristics & kind) != 0).Sum(h => (long)h.SizeOfRawData);

    private static void WriteSectionHeader(Span<byte> at, PeSection section)
    {
        at[..PeSection.HeaderSize].Clear();
        Encoding.ASCII.GetBytes(section.Name).CopyTo(at);
        BinaryPrimitives.WriteUInt32LittleEndian(at[8..], section.VirtualSize);
        BinaryPrimitives.WriteUInt32LittleEndian(at[12..], section.VirtualAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(at[16..], section.SizeOfRawData);
        BinaryPrimitives.WriteUInt32LittleEndian(at[20..], section.PointerToRawData);
        BinaryPrimitives.WriteUInt32LittleEndian(at[36..], section.Characteristics);
    }
}

/// <summary>A section to append: its bytes, its flags, and (for .linux) a virtual size larger than the data.</summary>
public sealed record NewSection(string Name, byte[] Data, uint Characteristics = PeSection.ReadOnlyData, uint? VirtualSize = null);

/// <summary>Where the next appended section goes, in memory and in the file, starting after the stub's own.</summary>
internal sealed class UkiLayout
{
    private readonly uint _sectionAlignment, _fileAlignment;
    private ulong _nextAddress, _nextOffset;

    /// <param name="shift">How far the stub's section data moved in the file to make room for more headers.</param>
    public UkiLayout(PeImage stub, uint shift)
    {
        _sectionAlignment = stub.SectionAlignment;
        _fileAlignment = stub.FileAlignment;
        var lastInMemory = stub.Sections.Select(s => (ulong)s.VirtualAddress + s.VirtualSize).DefaultIfEmpty(stub.SizeOfHeaders).Max();
        _nextAddress = Align(Math.Max(lastInMemory, stub.SizeOfImage), _sectionAlignment);
        StubEnd = (uint)stub.Sections.Select(s => s.RawEnd).DefaultIfEmpty(stub.SizeOfHeaders).Max() + shift;
        _nextOffset = Align(StubEnd, _fileAlignment);
    }

    /// <summary>Where the stub's section data ends in the file (its symbol table, after it, is dropped).</summary>
    public uint StubEnd { get; }
    public uint FileEnd => checked((uint)_nextOffset);
    public uint ImageEnd => checked((uint)_nextAddress);

    public (PeSection Header, byte[] Data) Place(NewSection section)
    {
        uint virtualSize = section.VirtualSize ?? (uint)section.Data.Length;
        var header = new PeSection
        {
            Name = section.Name,
            VirtualSize = virtualSize,
            VirtualAddress = checked((uint)_nextAddress),
            SizeOfRawData = checked((uint)Align((ulong)section.Data.Length, _fileAlignment)),
            PointerToRawData = checked((uint)_nextOffset),
            Characteristics = section.Characteristics,
        };
        _nextAddress = Align(_nextAddress + Math.Max(virtualSize, header.SizeOfRawData), _sectionAlignment);
        _nextOffset += header.SizeOfRawData;
        return (header, section.Data);
    }

    private static ulong Align(ulong value, uint alignment) => (value + alignment - 1) / alignment * alignment;
}

/// <summary>
/// Room for the section table. When the stub's headers cannot hold every new header, the
/// headers grow by whole file-alignment units and the stub's section data moves down the file
/// by as much: only file offsets change, not a single address in memory (the headers must still
/// end below the first section's address). The unsigned stub has no other file offsets to fix
/// (no certificate table, no debug directory, and its symbol table is dropped).
/// </summary>
internal readonly record struct HeaderRoom(uint SizeOfHeaders, uint Shift)
{
    public static HeaderRoom For(PeImage stub, int sectionCount)
    {
        long tableEnd = stub.SectionTableOffset + ((long)sectionCount * PeSection.HeaderSize);
        uint firstData = (uint)stub.Sections.Where(s => s.SizeOfRawData > 0).Select(s => (long)s.PointerToRawData).DefaultIfEmpty(stub.SizeOfHeaders).Min();
        if (tableEnd <= Math.Min(stub.SizeOfHeaders, firstData))
        {
            return new HeaderRoom(stub.SizeOfHeaders, 0);
        }
        uint grown = (uint)((tableEnd + stub.FileAlignment - 1) / stub.FileAlignment * stub.FileAlignment);
        uint firstAddress = stub.Sections.Select(s => s.VirtualAddress).DefaultIfEmpty(uint.MaxValue).Min();
        if (grown > firstAddress)
        {
            throw new PeFormatException($"{stub.Source}: {sectionCount} section headers need 0x{grown:x} bytes of headers, more than the 0x{firstAddress:x} before the first section in memory");
        }
        return new HeaderRoom(grown, grown > firstData ? grown - firstData : 0);
    }
}

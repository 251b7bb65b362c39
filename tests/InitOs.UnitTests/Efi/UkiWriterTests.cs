using System.Buffers.Binary;
using System.Text.RegularExpressions;
using InitOs.Efi.Pe;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Kernel;
using InitOs.TestKit;

namespace InitOs.UnitTests.Efi;

/// <summary>The UKI writer against Debian's real systemd stub and the test kernel.</summary>
public sealed class UkiWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-uki-");
    private readonly UkiSpec _spec;

    public UkiWriterTests()
    {
        RepoPaths.Require(UkiSpec.DefaultStub, "make prereqs (systemd-boot-efi)");
        var initrd = _dir.File("initrd.img");
        File.WriteAllBytes(initrd, Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray());
        _spec = new UkiSpec
        {
            Kernel = KernelFolder.Open(RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel")).Vmlinuz,
            Initrd = initrd,
            Cmdline = "console=ttyS0 quiet",
            OsRelease = "NAME=InitOS\nID=initos\n",
            Timestamp = 1234,
        };
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void What_is_written_parses_back_with_the_stubs_sections_then_the_payload_and_linux_last()
    {
        var stub = PeImage.Load(UkiSpec.DefaultStub);
        var uki = PeImage.Parse(UkiWriter.Build(_spec), "uki");
        var names = uki.Sections.Select(s => s.Name).ToList();
        Assert.Equal(stub.Sections.Select(s => s.Name).Concat([".osrel", ".cmdline", ".initrd", ".linux"]), names);
        Assert.Equal("console=ttyS0 quiet"u8.ToArray(), uki.Content(uki.Find(".cmdline")!).ToArray());
        Assert.Equal(File.ReadAllBytes(_spec.Initrd), uki.Content(uki.Find(".initrd")!).ToArray());
        var kernel = File.ReadAllBytes(_spec.Kernel);
        var linux = uki.Find(".linux")!;
        Assert.Equal(kernel, uki.RawData(linux)[..kernel.Length].ToArray());
        Assert.Equal(PeImage.Parse(kernel, "vmlinuz").SizeOfImage, linux.VirtualSize);
        Assert.Equal(PeSection.ReadExecuteCode, linux.Characteristics);
        foreach (var section in uki.Sections.Skip(stub.Sections.Count))
        {
            Assert.Equal(0u, section.VirtualAddress % stub.SectionAlignment);
            Assert.Equal(0u, section.PointerToRawData % stub.FileAlignment);
        }
        Assert.Equal(Align(linux.VirtualAddress + Math.Max(linux.VirtualSize, linux.SizeOfRawData), stub.SectionAlignment), uki.SizeOfImage);
        Assert.Equal(1234u, uki.TimeDateStamp);
        Assert.Equal(0u, uki.PointerToSymbolTable);
        Assert.Equal(0u, uki.NumberOfSymbols);
        Assert.Equal(linux.RawEnd, (ulong)uki.Bytes.Length);
    }

    [Fact]
    public void The_machines_pcr11_prediction_from_the_file_agrees_with_the_builds()
    {
        var plain = _dir.File("plain.efi");
        File.WriteAllBytes(plain, UkiWriter.Build(_spec));
        var extra = _dir.File("extra.bin");
        File.WriteAllBytes(extra, [1, 2, 3]);
        var full = _dir.File("full.efi");
        File.WriteAllBytes(full, UkiWriter.Build(_spec with { Splash = extra, PcrSignature = extra }));

        foreach (var uki in new[] { plain, full })
        {
            Assert.Equal(InitOs.Efi.Pcr.Pcr11.PredictHex(PeImage.Load(uki)), Convert.ToHexStringLower(InitOs.Init.Tpm.UkiMeasurement.PredictPcr11(uki)));
        }
        var e = Assert.Throws<InvalidDataException>(() => InitOs.Init.Tpm.UkiMeasurement.PredictPcr11(extra));
        Assert.Contains("is not a UKI: no MZ header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Optional_sections_go_before_the_initrd_and_pcrsig_is_not_measured()
    {
        var extra = _dir.File("extra.bin");
        File.WriteAllBytes(extra, [1, 2, 3]);
        var full = PeImage.Parse(UkiWriter.Build(_spec with { Splash = extra, Devicetree = extra, PcrPublicKey = extra, PcrSignature = extra }), "uki");
        Assert.Equal([".osrel", ".cmdline", ".splash", ".dtb", ".pcrpkey", ".pcrsig", ".initrd", ".linux"], full.Sections.Skip(8).Select(s => s.Name));
        // 16 headers do not fit the stub's 0x400 bytes: the headers grew and the stub's data moved
        // down the file, unchanged and at the same addresses.
        var stub = PeImage.Load(UkiSpec.DefaultStub);
        Assert.Equal(0x600u, full.SizeOfHeaders);
        foreach (var original in stub.Sections.Where(s => s.Name != ".sbat"))
        {
            var moved = full.Find(original.Name)!;
            Assert.Equal(original.VirtualAddress, moved.VirtualAddress);
            Assert.Equal(stub.RawData(original).ToArray(), full.RawData(moved).ToArray());
        }
        var withOtherSignature = PeImage.Parse(UkiWriter.Build(_spec with { Splash = extra, Devicetree = extra, PcrPublicKey = extra, PcrSignature = _spec.Initrd }), "uki");
        Assert.Equal(InitOs.Efi.Pcr.Pcr11.PredictHex(full), InitOs.Efi.Pcr.Pcr11.PredictHex(withOtherSignature));
        Assert.NotEqual(InitOs.Efi.Pcr.Pcr11.PredictHex(full), InitOs.Efi.Pcr.Pcr11.PredictHex(PeImage.Parse(UkiWriter.Build(_spec), "uki")));
    }

    [Fact]
    public void The_stubs_sbat_is_kept_and_gets_the_InitOS_line()
    {
        var stub = PeImage.Load(UkiSpec.DefaultStub);
        var uki = PeImage.Parse(UkiWriter.Build(_spec), "uki");
        var before = System.Text.Encoding.UTF8.GetString(stub.Content(stub.Find(".sbat")!)).TrimEnd('\0');
        var after = System.Text.Encoding.UTF8.GetString(uki.Content(uki.Find(".sbat")!));
        Assert.StartsWith(before, after, StringComparison.Ordinal);
        Assert.EndsWith("\n" + UkiSpec.DefaultSbatLine + "\n", after, StringComparison.Ordinal);
        Assert.Equal(stub.Find(".sbat")!.VirtualAddress, uki.Find(".sbat")!.VirtualAddress);
    }

    /// <summary>objdump reads the same section table: names, sizes, addresses and file offsets.</summary>
    [Fact]
    public void The_section_table_matches_what_objdump_reads()
    {
        var path = _dir.File("uki.efi");
        UkiWriter.Write(_spec, path);
        var uki = PeImage.Load(path);
        var rows = Regex.Matches(Tool.Run("objdump", "-h", path), @"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[4].Value))).ToList();
        // objdump's size is what the file holds of the section: the smaller of its virtual and raw sizes.
        Assert.Equal(uki.Sections.Select(s => (s.Name, (ulong)Math.Min(s.VirtualSize, s.SizeOfRawData), uki.ImageBase + s.VirtualAddress, (ulong)s.PointerToRawData)), rows);
    }

    [Fact]
    public void The_same_inputs_give_the_same_bytes_and_the_timestamp_comes_from_the_spec()
    {
        var first = UkiWriter.Build(_spec);
        Assert.Equal(first, UkiWriter.Build(_spec));
        var later = UkiWriter.Build(_spec with { Timestamp = 99 });
        var differing = Enumerable.Range(0, first.Length).Where(i => first[i] != later[i]).ToList();
        var stamp = PeImage.Parse(first, "uki").CoffOffset + 4;
        Assert.All(differing, i => Assert.InRange(i, stamp, stamp + 3));
    }

    [Fact]
    public void A_signed_stub_is_refused()
    {
        var stub = File.ReadAllBytes(UkiSpec.DefaultStub);
        var pe = PeImage.Parse(stub, "stub");
        BinaryPrimitives.WriteUInt32LittleEndian(stub.AsSpan(pe.DataDirectoryOffset(4)), 0x11400);
        BinaryPrimitives.WriteUInt32LittleEndian(stub.AsSpan(pe.DataDirectoryOffset(4) + 4), 0x800);
        var signed = _dir.File("signed.stub");
        File.WriteAllBytes(signed, stub);
        var e = Assert.Throws<PeFormatException>(() => UkiWriter.Build(_spec with { Stub = signed }));
        Assert.Contains("already signed (2048 bytes of certificates)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_name_longer_than_8_bytes_is_refused()
    {
        var stub = PeImage.Load(UkiSpec.DefaultStub);
        var payload = UkiWriter.Payload(_spec).ToList();
        payload.Insert(0, new NewSection(".toolongname", [1]));
        var e = Assert.Throws<PeFormatException>(() => UkiWriter.Build(stub, payload, UkiSpec.DefaultSbatLine, 0));
        Assert.Contains("section name .toolongname is longer than 8 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stub_whose_sections_overlap_is_refused()
    {
        var stub = File.ReadAllBytes(UkiSpec.DefaultStub);
        var pe = PeImage.Parse(stub, "stub");
        // Make .reloc (the second section) claim far more memory than the gap to .data.
        BinaryPrimitives.WriteUInt32LittleEndian(stub.AsSpan(pe.SectionTableOffset + PeSection.HeaderSize + 8), 0x4000);
        var e = Assert.Throws<PeFormatException>(() => UkiWriter.Build(PeImage.Parse(stub, "stub"), UkiWriter.Payload(_spec), UkiSpec.DefaultSbatLine, 0));
        Assert.Contains("sections .reloc and .data overlap in memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_a_PE_file_is_named_as_such()
    {
        var junk = _dir.File("junk");
        File.WriteAllText(junk, "not a PE image at all, but long enough to have a DOS header's worth of bytes in it.");
        var e = Assert.Throws<PeFormatException>(() => UkiWriter.Build(_spec with { Stub = junk }));
        Assert.Contains($"{junk}: no MZ header", e.Message, StringComparison.Ordinal);
    }

    private static ulong Hex(string text) => ulong.Parse(text, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    private static uint Align(ulong value, uint alignment) => (uint)((value + alignment - 1) / alignment * alignment);
}

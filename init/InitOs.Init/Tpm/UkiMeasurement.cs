using System.Text;
using InitOs.Sys;

namespace InitOs.Init.Tpm;

/// <summary>
/// The PCR 11 value systemd-stub (v252) leaves after booting a UKI, computed from the file on
/// the machine (the sidecar seals disk keys to the next UKI with it before that UKI can boot).
/// The stub measures, for each payload section present, in its fixed order, the section's name
/// with its NUL and then its bytes as loaded (VirtualSize: file data, then zeros), each as one
/// extend, from zero. The workstation's `initos build uki` computes the same (efi/InitOs.Efi);
/// a unit test holds the two together.
/// </summary>
public static class UkiMeasurement
{
    public static readonly IReadOnlyList<string> MeasuredSections = [".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey"];

    /// <exception cref="InvalidDataException">The file is not a PE image (the message says what is wrong where).</exception>
    public static byte[] PredictPcr11(string ukiPath)
    {
        using var file = File.OpenRead(ukiPath);
        var sections = Sections(file, ukiPath);
        var pcr = new byte[32];
        foreach (var name in MeasuredSections)
        {
            if (!sections.TryGetValue(name, out var section) || section.VirtualSize == 0)
            {
                continue;
            }
            pcr = Extend(pcr, Sha256.Hash(Encoding.ASCII.GetBytes(name + "\0")));
            pcr = Extend(pcr, HashAsLoaded(file, section));
        }
        return pcr;
    }

    private readonly record struct Section(uint VirtualSize, uint RawSize, uint RawOffset);

    private static byte[] Extend(byte[] pcr, byte[] digest) => Sha256.Hash([.. pcr, .. digest]);

    private static Dictionary<string, Section> Sections(FileStream file, string path)
    {
        var reader = new BinaryReader(file);
        Require(file.Length >= 0x40 && reader.ReadUInt16() == 0x5A4D, path, "no MZ header");
        file.Position = 0x3C;
        uint pe = reader.ReadUInt32();
        Require(pe + 24 <= file.Length, path, $"PE header offset 0x{pe:x} past the end");
        file.Position = pe;
        Require(reader.ReadUInt32() == 0x00004550, path, $"no PE signature at 0x{pe:x}");
        file.Position = pe + 6;
        int count = reader.ReadUInt16();
        file.Position = pe + 20;
        int optionalSize = reader.ReadUInt16();
        long table = pe + 24 + optionalSize;
        Require(table + 40L * count <= file.Length, path, $"{count} section headers do not fit");
        var sections = new Dictionary<string, Section>();
        for (int i = 0; i < count; i++)
        {
            file.Position = table + 40L * i;
            var name = Encoding.ASCII.GetString(reader.ReadBytes(8)).TrimEnd('\0');
            var section = new Section(VirtualSize: reader.ReadUInt32(), RawSize: ReadAfter(reader, 4), RawOffset: reader.ReadUInt32());
            Require((long)section.RawOffset + section.RawSize <= file.Length, path, $"section {name}'s data runs past the end");
            sections.TryAdd(name, section);
        }
        return sections;
    }

    /// <summary>Skips <paramref name="skip"/> bytes (the VirtualAddress), then reads a u32.</summary>
    private static uint ReadAfter(BinaryReader reader, int skip)
    {
        reader.BaseStream.Position += skip;
        return reader.ReadUInt32();
    }

    private static byte[] HashAsLoaded(FileStream file, Section section)
    {
        var sha = new Sha256();
        file.Position = section.RawOffset;
        long fromFile = Math.Min(section.RawSize, section.VirtualSize);
        var buffer = new byte[1 << 20];
        for (long left = fromFile; left > 0;)
        {
            int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0)
            {
                throw new InvalidDataException($"{file.Name}: cut short in a section");
            }
            sha.Append(buffer.AsSpan(0, n));
            left -= n;
        }
        Array.Clear(buffer);
        for (long zeros = section.VirtualSize - fromFile; zeros > 0;)
        {
            int n = (int)Math.Min(buffer.Length, zeros);
            sha.Append(buffer.AsSpan(0, n));
            zeros -= n;
        }
        return sha.Finish();
    }

    private static void Require(bool condition, string path, string problem)
    {
        if (!condition)
        {
            throw new InvalidDataException($"{path} is not a UKI: {problem}");
        }
    }
}

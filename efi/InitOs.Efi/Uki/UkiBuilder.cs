using InitOs.Efi.Pcr;
using InitOs.Efi.Pe;
using InitOs.Efi.Signing;

namespace InitOs.Efi.Uki;

/// <summary>`initos build uki` = write + sign: the UKI is only in place once it is signed and sbverify agrees.</summary>
public static class UkiBuilder
{
    public sealed record Result(string? SignedWith, IReadOnlyList<string> Sections, string Pcr11);

    public static Result Build(UkiSpec spec, string output, KeySet? keys)
    {
        var unsigned = keys is null ? output : output + ".unsigned";
        UkiWriter.Write(spec, unsigned);
        var image = PeImage.Load(unsigned);
        if (keys is not null)
        {
            try
            {
                PeSigner.Sign(keys, unsigned, output);
            }
            finally
            {
                File.Delete(unsigned);
            }
        }
        return new Result(keys?.SigningCertificate, image.Sections.Select(s => $"{s.Name}@0x{s.VirtualAddress:x}").ToList(), Pcr11.PredictHex(image));
    }
}

using System.Security.Cryptography;
using System.Text;
using InitOs.Efi.Pe;

namespace InitOs.Efi.Pcr;

/// <summary>
/// The SHA-256 PCR 11 value systemd-stub (v252) leaves after measuring a UKI: for each payload
/// section present, in the stub's fixed order, one extend with the section's name and its NUL,
/// then one with the section's bytes as loaded (its VirtualSize: file data, then zeros). .pcrsig
/// is not measured (it holds signatures over this very value). PCR 11 starts at zero.
/// </summary>
public static class Pcr11
{
    public static readonly IReadOnlyList<string> MeasuredSections = [".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey"];

    public static byte[] Predict(PeImage uki)
    {
        var pcr = new byte[SHA256.HashSizeInBytes];
        foreach (var name in MeasuredSections)
        {
            if (uki.Find(name) is not { VirtualSize: > 0 } section)
            {
                continue;
            }
            pcr = Extend(pcr, Encoding.ASCII.GetBytes(name + "\0"));
            pcr = Extend(pcr, AsLoaded(uki, section));
        }
        return pcr;
    }

    public static string PredictHex(PeImage uki) => Convert.ToHexStringLower(Predict(uki));

    /// <summary>PCR_new = SHA-256(PCR_old ‖ SHA-256(event data)), as TPM2_PCR_Extend does for a logged event.</summary>
    public static byte[] Extend(byte[] pcr, ReadOnlySpan<byte> eventData)
    {
        Span<byte> both = stackalloc byte[2 * SHA256.HashSizeInBytes];
        pcr.CopyTo(both);
        SHA256.HashData(eventData, both[SHA256.HashSizeInBytes..]);
        return SHA256.HashData(both);
    }

    /// <summary>The section as the firmware's loader put it in memory: VirtualSize bytes, zero-filled past the file's data.</summary>
    private static byte[] AsLoaded(PeImage uki, PeSection section)
    {
        var memory = new byte[section.VirtualSize];
        var data = uki.RawData(section);
        data[..Math.Min(data.Length, memory.Length)].CopyTo(memory);
        return memory;
    }
}

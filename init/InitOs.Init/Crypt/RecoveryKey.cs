using System.Globalization;
using System.Text;
using System.Text.Json;
using InitOs.Sys;

namespace InitOs.Init.Crypt;

/// <summary>
/// A recovery key: 128 random bits shown once as eight groups of four hex digits, in a key slot
/// of its own with an initos-recovery token naming that slot (so `status` can say a boot was
/// opened by the recovery key). It is typed at the passphrase prompt. Being random, it needs no
/// slow KDF.
/// </summary>
public static class RecoveryKey
{
    public const string TokenType = "initos-recovery";

    /// <summary>Adds a new recovery key to <paramref name="device"/>; returns it, to be shown once and never stored by InitOS.</summary>
    public static string Enrol(Cryptsetup cryptsetup, string device, ReadOnlySpan<byte> authorizing, bool authorizingIsVolumeKey)
    {
        var metadata = cryptsetup.Metadata(device);
        int slot = TpmKeys.Free(TpmToken.UsedKeySlots(metadata), "key slot", device);
        int tokenId = TpmKeys.Free(TpmToken.UsedTokenIds(metadata), "token", device);
        var key = Format(Kernel.RandomBytes(16));
        cryptsetup.AddKey(device, slot, Encoding.ASCII.GetBytes(key), authorizing, authorizingIsVolumeKey);
        cryptsetup.ImportToken(device, tokenId, $"{{\"type\":\"{TokenType}\",\"keyslots\":[\"{slot}\"]}}");
        return key;
    }

    /// <summary>Key slots that hold recovery keys, from the header's tokens.</summary>
    public static IReadOnlySet<int> Slots(string metadata)
    {
        using var document = JsonDocument.Parse(metadata);
        var slots = new HashSet<int>();
        foreach (var token in TpmToken.OfType(document, TokenType))
        {
            if (token.Value.TryGetProperty("keyslots", out var keyslots) && keyslots.ValueKind == JsonValueKind.Array)
            {
                foreach (var slot in keyslots.EnumerateArray())
                {
                    if (slot.ValueKind == JsonValueKind.String && int.TryParse(slot.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                    {
                        slots.Add(n);
                    }
                }
            }
        }
        return slots;
    }

    internal static string Format(byte[] random) => string.Join('-', Convert.ToHexStringLower(random).Chunk(4).Select(c => new string(c)));
}

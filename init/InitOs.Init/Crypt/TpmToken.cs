using System.Globalization;
using System.Text;
using System.Text.Json;
using InitOs.Init.Tpm;

namespace InitOs.Init.Crypt;

/// <summary>
/// A LUKS2 token of type "initos-tpm2": a key sealed by this machine's TPM to PCR values (those
/// a UKI release leaves), and the key slot that key opens. It lives in the LUKS2 header, on the
/// disk, so it is hostile input: a token that does not parse is skipped with a warning, and a
/// blob changed on disk is refused by the TPM (its integrity check), never trusted here.
/// </summary>
public sealed record TpmToken(int Id, int KeySlot, string Release, PcrPolicy Policy, SealedBlob Blob)
{
    public const string Type = "initos-tpm2";

    public string ToJson()
    {
        var values = string.Join(",", Policy.Selection.Indexes.Select(i => $"\"{i}\":\"{Convert.ToHexStringLower(Policy.Values[i])}\""));
        return "{" +
            $"\"type\":\"{Type}\",\"keyslots\":[\"{KeySlot}\"]," +
            $"\"initos_release\":\"{SafeRelease(Release)}\"," +
            $"\"initos_pcrs\":{{{values}}}," +
            $"\"tpm2_private\":\"{Convert.ToBase64String(Blob.Private)}\",\"tpm2_public\":\"{Convert.ToBase64String(Blob.Public)}\"" +
            "}";
    }

    /// <summary>A release is a version word (letters, digits, '.', '-', '_', '+'): nothing JSON would have to escape.</summary>
    private static string SafeRelease(string release) =>
        release.Length > 0 && release.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+')
            ? release
            : throw new ArgumentException($"'{release}' is not a release name (letters, digits, '.', '-', '_', '+')", nameof(release));

    /// <summary>The initos-tpm2 tokens in a LUKS2 header's JSON metadata; <paramref name="warn"/> hears of the ones that do not parse.</summary>
    public static IReadOnlyList<TpmToken> FromMetadata(string metadata, Action<string> warn)
    {
        using var document = JsonDocument.Parse(metadata);
        var tokens = new List<TpmToken>();
        foreach (var token in OfType(document, Type))
        {
            try
            {
                tokens.Add(Parse(token.Name, token.Value));
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException or OverflowException)
            {
                warn($"LUKS2 token {token.Name} ({Type}) is malformed and is ignored: {e.Message}");
            }
        }
        return tokens;
    }

    /// <summary>The header's tokens of one type (the header is hostile: anything not shaped as a token is passed over).</summary>
    internal static IEnumerable<JsonProperty> OfType(JsonDocument metadata, string type)
    {
        if (!metadata.RootElement.TryGetProperty("tokens", out var all) || all.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }
        foreach (var token in all.EnumerateObject())
        {
            if (token.Value.ValueKind == JsonValueKind.Object && token.Value.TryGetProperty("type", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == type)
            {
                yield return token;
            }
        }
    }

    /// <summary>Key slots in use (to find a free one for a new key).</summary>
    public static IReadOnlySet<int> UsedKeySlots(string metadata)
    {
        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.TryGetProperty("keyslots", out var slots) && slots.ValueKind == JsonValueKind.Object
            ? slots.EnumerateObject().Select(s => int.Parse(s.Name, CultureInfo.InvariantCulture)).ToHashSet()
            : new HashSet<int>();
    }

    /// <summary>Token ids in use.</summary>
    public static IReadOnlySet<int> UsedTokenIds(string metadata)
    {
        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.TryGetProperty("tokens", out var tokens) && tokens.ValueKind == JsonValueKind.Object
            ? tokens.EnumerateObject().Select(s => int.Parse(s.Name, CultureInfo.InvariantCulture)).ToHashSet()
            : new HashSet<int>();
    }

    private static TpmToken Parse(string id, JsonElement token)
    {
        var slots = token.GetProperty("keyslots").EnumerateArray().Select(s => int.Parse(s.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture)).ToList();
        if (slots.Count != 1)
        {
            throw new FormatException($"it names {slots.Count} key slots, not one");
        }
        var values = token.GetProperty("initos_pcrs").EnumerateObject()
            .ToDictionary(p => int.Parse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture), p => Convert.FromHexString(p.Value.GetString()!));
        var blob = new SealedBlob(Convert.FromBase64String(token.GetProperty("tpm2_private").GetString()!), Convert.FromBase64String(token.GetProperty("tpm2_public").GetString()!));
        return new TpmToken(int.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture), slots[0], token.GetProperty("initos_release").GetString() ?? "", new PcrPolicy(new PcrSelection(values.Keys), values), blob);
    }

    public override string ToString() => $"token {Id} (key slot {KeySlot}, sealed for release {Release}: {Policy})";
}


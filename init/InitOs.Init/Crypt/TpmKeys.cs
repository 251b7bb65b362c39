using InitOs.Init.Tpm;
using InitOs.Sys;

namespace InitOs.Init.Crypt;

/// <summary>
/// A LUKS2 volume's TPM-sealed keys: one random key per UKI release, each in its own key slot,
/// sealed to PCR 7 (Secure Boot's state and keys) and PCR 11 (the UKI as systemd-stub measured
/// it) and kept in an initos-tpm2 token. Any of them that unseals opens the volume; an UKI not
/// enrolled (another build, the same keys) or another Secure Boot state unseals none.
/// </summary>
public static class TpmKeys
{
    public static readonly PcrSelection Pcrs = new([7, 11]);
    private const int MaxSlots = 32;

    /// <summary>
    /// The first token whose key this TPM unseals now, with that key; null when none does (each
    /// failure said). A token whose recorded PCR values are not this boot's is not tried (each
    /// unseal costs a storage key and a session): the values come from the disk and are only a
    /// hint, the TPM alone decides whether a blob unseals.
    /// </summary>
    public static (TpmToken Token, byte[] Key)? Unseal(Tpm2 tpm, IReadOnlyList<TpmToken> tokens, Action<string> warn)
    {
        var now = tpm.PcrRead(Pcrs);
        foreach (var token in tokens)
        {
            if (token.Policy.Selection.Indexes.FirstOrDefault(i => !now.TryGetValue(i, out var value) || !value.AsSpan().SequenceEqual(token.Policy.Values[i]), -1) is var differs and >= 0)
            {
                warn($"{token}: sealed for another PCR {differs} (this boot's is {(now.TryGetValue(differs, out var v) ? Convert.ToHexStringLower(v) : "unread")}): not tried");
                continue;
            }
            try
            {
                return (token, SealedSecret.Unseal(tpm, token.Blob, token.Policy.Selection));
            }
            catch (TpmException e)
            {
                warn($"{token}: {(e.IsPolicyFailure ? "this boot's PCRs are not the ones it was sealed to" : e.Message)}");
            }
        }
        return null;
    }

    /// <summary>
    /// Seals a new random key to <paramref name="policy"/>, adds it in a free key slot (authorized
    /// by the open mapping's volume key or a passphrase) and records the token; a token for the
    /// same release and the same PCR values is replaced (after the new one is in place).
    /// </summary>
    public static TpmToken Enrol(Cryptsetup cryptsetup, string device, Tpm2 tpm, PcrPolicy policy, string release, ReadOnlySpan<byte> authorizing, bool authorizingIsVolumeKey)
    {
        var metadata = cryptsetup.Metadata(device);
        var stale = TpmToken.FromMetadata(metadata, _ => { }).Where(t => t.Release == release && SameValues(t.Policy, policy)).ToList();
        int slot = Free(TpmToken.UsedKeySlots(metadata), "key slot", device);
        int tokenId = Free(TpmToken.UsedTokenIds(metadata), "token", device);
        var secret = Kernel.RandomBytes(32);
        try
        {
            var blob = SealedSecret.Seal(tpm, secret, policy);
            cryptsetup.AddKey(device, slot, secret, authorizing, authorizingIsVolumeKey);
            var token = new TpmToken(tokenId, slot, release, policy, blob);
            cryptsetup.ImportToken(device, tokenId, token.ToJson());
            foreach (var old in stale)
            {
                cryptsetup.RemoveTokenAndSlot(device, old.Id, old.KeySlot);
            }
            return token;
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    /// <summary>Removes the tokens (and their key slots) of every release but <paramref name="keep"/>: what a blessed upgrade leaves behind.</summary>
    public static IReadOnlyList<TpmToken> RemoveAllBut(Cryptsetup cryptsetup, string device, string keep)
    {
        var gone = TpmToken.FromMetadata(cryptsetup.Metadata(device), _ => { }).Where(t => t.Release != keep).ToList();
        foreach (var token in gone)
        {
            cryptsetup.RemoveTokenAndSlot(device, token.Id, token.KeySlot);
        }
        return gone;
    }

    internal static int Free(IReadOnlySet<int> used, string what, string device) =>
        Enumerable.Range(0, MaxSlots).FirstOrDefault(i => !used.Contains(i), -1) is var free and >= 0
            ? free
            : throw new CryptsetupException($"{device} has no free {what} (all {MaxSlots} in use)");

    private static bool SameValues(PcrPolicy a, PcrPolicy b) =>
        a.Selection.Indexes.SequenceEqual(b.Selection.Indexes) && a.Selection.Indexes.All(i => a.Values[i].AsSpan().SequenceEqual(b.Values[i]));
}

using InitOs.Sys;

namespace InitOs.Init.Tpm;

/// <summary>
/// The policy "these PCRs hold these values", computed without a TPM (Part 3, TPM2_PolicyPCR):
/// policy = SHA-256(0³² ‖ TPM_CC_PolicyPCR ‖ selection ‖ SHA-256(values in PCR order)). That the
/// digest can be computed for values a PCR does not hold yet is what lets InitOS seal a key to
/// the next UKI before it has ever booted.
/// </summary>
public sealed record PcrPolicy(PcrSelection Selection, IReadOnlyDictionary<int, byte[]> Values)
{
    public byte[] Digest()
    {
        var values = new Sha256();
        foreach (var index in Selection.Indexes)
        {
            if (!Values.TryGetValue(index, out var value) || value.Length != 32)
            {
                throw new ArgumentException($"the policy needs PCR {index}'s SHA-256 value");
            }
            values.Append(value);
        }
        var policy = new Sha256();
        policy.Append(new byte[32]);
        policy.Append(new TpmWriter().U32(TpmConstants.CcPolicyPcr).ToArray());
        policy.Append(Selection.Marshal());
        policy.Append(values.Finish());
        return policy.Finish();
    }

    public override string ToString() => string.Join(", ", Selection.Indexes.Select(i => $"PCR {i} = {Convert.ToHexStringLower(Values[i])}"));
}

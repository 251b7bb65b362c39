namespace InitOs.Init.Tpm;

/// <summary>A secret sealed by one TPM to one PCR policy: the blobs the TPM gave back, safe to keep anywhere (only that TPM can load them).</summary>
public sealed record SealedBlob(byte[] Private, byte[] Public);

/// <summary>
/// Sealing and unsealing a disk key with a PCR policy, each in a salted session whose parameter
/// encryption carries the secret: to the TPM when sealing, back when unsealing.
/// </summary>
public static class SealedSecret
{
    public static SealedBlob Seal(Tpm2 tpm, ReadOnlySpan<byte> secret, PcrPolicy policy)
    {
        var primary = tpm.CreateStoragePrimary();
        var session = tpm.StartSaltedSession(primary, policy: false);
        try
        {
            var (sealedPrivate, sealedPublic) = tpm.CreateSealed(primary, session, secret, policy.Digest());
            return new SealedBlob(sealedPrivate, sealedPublic);
        }
        finally
        {
            tpm.Flush(session.Handle);
            tpm.Flush(primary.Handle);
        }
    }

    /// <exception cref="TpmException">The PCRs do not hold the policy's values (<see cref="TpmException.IsPolicyFailure"/>), or another TPM made the blob.</exception>
    public static byte[] Unseal(Tpm2 tpm, SealedBlob blob, PcrSelection pcrs)
    {
        var primary = tpm.CreateStoragePrimary();
        TpmSession? session = null;
        TpmObject? item = null;
        try
        {
            item = tpm.Load(primary, blob.Private, blob.Public);
            session = tpm.StartSaltedSession(primary, policy: true);
            tpm.PolicyPcr(session, pcrs);
            return tpm.Unseal(item, session);
        }
        finally
        {
            if (session is not null)
            {
                tpm.Flush(session.Handle);
            }
            if (item is not null)
            {
                tpm.Flush(item.Handle);
            }
            tpm.Flush(primary.Handle);
        }
    }
}

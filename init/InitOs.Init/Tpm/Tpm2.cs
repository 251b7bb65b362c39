using InitOs.Sys;
using static InitOs.Init.Tpm.TpmConstants;

namespace InitOs.Init.Tpm;

/// <summary>A key the TPM holds for this connection: its handle and its name (the hash of its public area).</summary>
public sealed record TpmObject(uint Handle, byte[] Name);

/// <summary>The storage primary key: the parent of sealed objects, and the key salts are encrypted to.</summary>
public sealed record TpmPrimary(uint Handle, byte[] Name, byte[] Modulus, uint Exponent);

/// <summary>
/// The TPM 2.0 commands a sealed disk key needs, marshalled by hand (Part 3). Commands that
/// carry a secret go through a salted session with parameter encryption, and every response
/// of such a session has its HMAC checked before its parameters are used, so neither the bus
/// nor a device in the middle sees the key or changes an answer unnoticed.
/// </summary>
public sealed partial class Tpm2(ITpmTransport transport) : IDisposable
{
    public string Name => transport.Name;

    /// <summary>
    /// The storage primary from the owner hierarchy's seed with the TCG's RSA-2048 SRK template:
    /// the same key every time on the same TPM, so what is sealed under it loads on every boot.
    /// </summary>
    public TpmPrimary CreateStoragePrimary()
    {
        var template = new TpmWriter()
            .U16(AlgRsa).U16(AlgSha256)
            .U32(FixedTpm | FixedParent | SensitiveDataOrigin | UserWithAuth | NoDictionaryAttack | Restricted | DecryptKey)
            .Sized([])
            .U16(AlgAes).U16(128).U16(AlgCfb)     // the storage key's own symmetric key
            .U16(AlgNull)                         // no signing scheme
            .U16(2048).U32(0)
            .Sized([])
            .ToArray();
        var parameters = new TpmWriter()
            .Sized(w => w.Sized([]).Sized([]))     // TPM2B_SENSITIVE_CREATE: no auth, no data
            .Sized(template)
            .Sized([])
            .U32(0)                               // creationPCR: none
            .ToArray();
        var response = Run("CreatePrimary", CcCreatePrimary, [(RhOwner, OwnerName)], Auth.Password, parameters, responseHandles: 1);
        var reader = new TpmReader(response.Parameters);
        var publicArea = reader.Sized();
        var (modulus, exponent) = RsaPublic(publicArea);
        return new TpmPrimary(response.Handles[0], NameOf(publicArea), modulus, exponent);
    }

    /// <summary>
    /// A session salted with a random secret encrypted to <paramref name="saltKey"/>: only this
    /// process and the TPM know its session key. AES-128-CFB parameter encryption, SHA-256.
    /// </summary>
    public TpmSession StartSaltedSession(TpmPrimary saltKey, bool policy)
    {
        var nonceCaller = Kernel.RandomBytes(32);
        var salt = Kernel.RandomBytes(32);
        var encryptedSalt = RsaOaep.Encrypt(saltKey.Modulus, saltKey.Exponent, salt, "SECRET\0"u8);
        var command = new TpmWriter().U16(TagNoSessions).U32(0).U32(CcStartAuthSession)
            .U32(saltKey.Handle).U32(RhNull)
            .Sized(nonceCaller).Sized(encryptedSalt).U8(policy ? SessionPolicy : SessionHmac)
            .U16(AlgAes).U16(128).U16(AlgCfb).U16(AlgSha256)
            .ToArray();
        var reader = Exchange("StartAuthSession", command);
        uint handle = reader.U32();
        var nonceTpm = reader.Sized();
        var sessionKey = TpmHmac.KdfA(salt, "ATH", nonceTpm, nonceCaller, 256);
        CryptographicClear(salt);
        return new TpmSession(handle, policy, sessionKey, nonceTpm);
    }

    /// <summary>TPM2_PolicyPCR: the session's policy now requires these PCRs to hold what they hold now.</summary>
    public void PolicyPcr(TpmSession session, PcrSelection pcrs)
    {
        var command = new TpmWriter().U16(TagNoSessions).U32(0).U32(CcPolicyPcr).U32(session.Handle)
            .Sized([]).Raw(pcrs.Marshal()).ToArray();
        Exchange("PolicyPCR", command);
    }

    /// <summary>What the session's policy digest is now (to compare with one computed ahead).</summary>
    public byte[] PolicyGetDigest(TpmSession session)
    {
        var command = new TpmWriter().U16(TagNoSessions).U32(0).U32(CcPolicyGetDigest).U32(session.Handle).ToArray();
        return Exchange("PolicyGetDigest", command).Sized();
    }

    /// <summary>
    /// Seals <paramref name="secret"/> under <paramref name="parent"/> so that only a policy session
    /// whose digest is <paramref name="policyDigest"/> can unseal it; the secret travels encrypted in
    /// <paramref name="session"/>. Returns the TPM2B_PRIVATE and TPMT_PUBLIC to keep.
    /// </summary>
    public (byte[] Private, byte[] Public) CreateSealed(TpmPrimary parent, TpmSession session, ReadOnlySpan<byte> secret, byte[] policyDigest)
    {
        var publicArea = SealedPublic(policyDigest);
        var sensitive = new TpmWriter().Sized([]).Sized(secret).ToArray();
        var parameters = new TpmWriter()
            .Sized(sensitive)
            .Sized(publicArea)
            .Sized([])
            .U32(0)
            .ToArray();
        var response = Run("Create", CcCreate, [(parent.Handle, parent.Name)], Auth.Session(session, ContinueSession | Decrypt), parameters, responseHandles: 0);
        var reader = new TpmReader(response.Parameters);
        var sealedPrivate = reader.Sized();
        var sealedPublic = reader.Sized();
        return (sealedPrivate, sealedPublic);
    }

    /// <summary>Loads a sealed object kept outside the TPM; the TPM checks it was made under this parent.</summary>
    public TpmObject Load(TpmPrimary parent, byte[] sealedPrivate, byte[] sealedPublic)
    {
        var parameters = new TpmWriter().Sized(sealedPrivate).Sized(sealedPublic).ToArray();
        var response = Run("Load", CcLoad, [(parent.Handle, parent.Name)], Auth.Password, parameters, responseHandles: 1);
        return new TpmObject(response.Handles[0], NameOf(sealedPublic));
    }

    /// <summary>The sealed data, if the policy session satisfies its policy; it comes back encrypted in the session.</summary>
    public byte[] Unseal(TpmObject item, TpmSession policy)
    {
        var response = Run("Unseal", CcUnseal, [(item.Handle, item.Name)], Auth.Session(policy, ContinueSession | Encrypt), [], responseHandles: 0);
        return new TpmReader(response.Parameters).Sized();
    }

    /// <summary>The SHA-256 bank's values of <paramref name="pcrs"/>, in the selection's order.</summary>
    public IReadOnlyDictionary<int, byte[]> PcrRead(PcrSelection pcrs)
    {
        var command = new TpmWriter().U16(TagNoSessions).U32(0).U32(CcPcrRead).Raw(pcrs.Marshal()).ToArray();
        var reader = Exchange("PCR_Read", command);
        reader.U32();                                   // the update counter
        var returned = PcrSelection.Read(reader);
        uint count = reader.U32();
        var values = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            values.Add(reader.Sized());
        }
        if (returned.Indexes.Count != values.Count || !returned.Indexes.SequenceEqual(pcrs.Indexes))
        {
            throw new TpmException($"{Name}: PCR_Read returned PCRs {returned} for {pcrs} (is the SHA-256 bank active?)");
        }
        return returned.Indexes.Zip(values).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>Extends a PCR's SHA-256 bank with <paramref name="digest"/> (a PCR with empty auth: 0–15, 16, 23).</summary>
    public void PcrExtend(int pcr, byte[] digest)
    {
        var parameters = new TpmWriter().U32(1).U16(AlgSha256).Raw(digest).ToArray();
        Run("PCR_Extend", CcPcrExtend, [((uint)pcr, BitConverter.GetBytes((uint)pcr).Reverse().ToArray())], Auth.Password, parameters, responseHandles: 0);
    }

    /// <summary>Forgets a transient object or session; errors are ignored (it may be gone already).</summary>
    public void Flush(uint handle)
    {
        try
        {
            Exchange("FlushContext", new TpmWriter().U16(TagNoSessions).U32(0).U32(CcFlushContext).U32(handle).ToArray());
        }
        catch (TpmException)
        {
        }
    }

    public void Dispose() => transport.Dispose();

    /// <summary>A sealed data object: no auth value (the policy is the only way in), not duplicable, no lockout counting.</summary>
    private static byte[] SealedPublic(byte[] policyDigest) => new TpmWriter()
        .U16(AlgKeyedHash).U16(AlgSha256)
        .U32(FixedTpm | FixedParent | NoDictionaryAttack)
        .Sized(policyDigest)
        .U16(AlgNull)
        .Sized([])
        .ToArray();

    /// <summary>An object's name: its name algorithm, then the hash of its public area.</summary>
    internal static byte[] NameOf(byte[] publicArea) => [.. new TpmWriter().U16(AlgSha256).ToArray(), .. Sha256.Hash(publicArea)];

    private static readonly byte[] OwnerName = [0x40, 0x00, 0x00, 0x01];

    private static (byte[] Modulus, uint Exponent) RsaPublic(byte[] publicArea)
    {
        var reader = new TpmReader(publicArea);
        if (reader.U16() != AlgRsa)
        {
            throw new TpmException("the storage primary is not an RSA key");
        }
        reader.U16();                 // nameAlg
        reader.U32();                 // attributes
        reader.Sized();               // authPolicy
        if (reader.U16() != AlgNull)  // symmetric: algorithm, then key bits and mode
        {
            reader.U16();
            reader.U16();
        }
        if (reader.U16() != AlgNull)  // scheme, then its hash
        {
            reader.U16();
        }
        reader.U16();                 // key bits
        uint exponent = reader.U32();
        return (reader.Sized(), exponent);
    }

    private static void CryptographicClear(byte[] bytes) => Array.Clear(bytes);
}

namespace InitOs.Init.Tpm;

/// <summary>The TPM 2.0 numbers this client uses (TPM 2.0 Part 2).</summary>
internal static class TpmConstants
{
    public const ushort TagNoSessions = 0x8001, TagSessions = 0x8002;

    public const uint CcCreatePrimary = 0x131, CcStartup = 0x144, CcCreate = 0x153, CcLoad = 0x157, CcUnseal = 0x15E,
        CcFlushContext = 0x165, CcStartAuthSession = 0x176, CcGetRandom = 0x17B, CcPcrRead = 0x17E, CcPolicyPcr = 0x17F,
        CcPcrExtend = 0x182, CcPolicyGetDigest = 0x189;

    public const uint RhOwner = 0x40000001, RhNull = 0x40000007, RsPassword = 0x40000009;

    public const ushort AlgRsa = 0x0001, AlgAes = 0x0006, AlgKeyedHash = 0x0008, AlgSha256 = 0x000B, AlgNull = 0x0010, AlgCfb = 0x0043;

    public const byte SessionHmac = 0x00, SessionPolicy = 0x01;

    /// <summary>Session attributes: keep the session open; the first command parameter is encrypted; the first response parameter is.</summary>
    public const byte ContinueSession = 0x01, Decrypt = 0x20, Encrypt = 0x40;

    public const uint FixedTpm = 0x2, FixedParent = 0x10, SensitiveDataOrigin = 0x20, UserWithAuth = 0x40, NoDictionaryAttack = 0x400,
        Restricted = 0x10000, DecryptKey = 0x20000;
}

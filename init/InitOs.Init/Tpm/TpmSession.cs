namespace InitOs.Init.Tpm;

/// <summary>
/// An authorization session the TPM started for us: its handle, the key both sides derived from
/// the salt (never on the bus), and the last nonce each side sent (TPM 2.0 Part 1, 19.6).
/// </summary>
public sealed class TpmSession
{
    internal TpmSession(uint handle, bool policy, byte[] sessionKey, byte[] nonceTpm)
    {
        Handle = handle;
        IsPolicy = policy;
        SessionKey = sessionKey;
        NonceTpm = nonceTpm;
    }

    public uint Handle { get; }

    public bool IsPolicy { get; }

    internal byte[] SessionKey { get; }

    internal byte[] NonceTpm { get; set; }

    /// <summary>The HMAC key: sessionKey ‖ the entity's authValue. Every object here has an empty one.</summary>
    internal byte[] HmacKey => SessionKey;

    /// <summary>AES-128 key ‖ IV for parameter encryption in one direction (Part 1, 21.3): KDFa(sessionValue, "CFB", newer, older).</summary>
    internal (byte[] Key, byte[] Iv) CfbKey(byte[] nonceNewer, byte[] nonceOlder)
    {
        var bits = TpmHmac.KdfA(SessionKey, "CFB", nonceNewer, nonceOlder, 256);
        return (bits[..16], bits[16..]);
    }
}

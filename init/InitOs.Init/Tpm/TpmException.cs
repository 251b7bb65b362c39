namespace InitOs.Init.Tpm;

/// <summary>A TPM command failed: its response code, named where it is one a user meets.</summary>
public sealed class TpmException : Exception
{
    public TpmException(string message)
        : base(message)
    {
    }

    public TpmException(string command, uint code)
        : base($"TPM2_{command} failed: {Describe(code)}")
    {
        Code = code;
    }

    public uint Code { get; }

    /// <summary>The error without its handle/session/parameter number (format-one codes carry one).</summary>
    public uint Base => (Code & 0x80) != 0 ? 0x80 | (Code & 0x3F) : Code;

    /// <summary>The object's policy does not hold: for a PCR policy, this machine booted something else.</summary>
    public bool IsPolicyFailure => Base is 0x099 or 0x09D or 0x128;

    public static string Describe(uint code)
    {
        uint baseCode = (code & 0x80) != 0 ? 0x80 | (code & 0x3F) : code;
        string name = baseCode switch
        {
            0x084 => "TPM_RC_VALUE",
            0x08E => "TPM_RC_AUTH_FAIL (wrong authorization)",
            0x099 => "TPM_RC_POLICY_CC",
            0x09B => "TPM_RC_HMAC (the session's HMAC does not check)",
            0x09D => "TPM_RC_POLICY_FAIL (the policy does not hold: different PCR values)",
            0x09F => "TPM_RC_INTEGRITY (the sealed blob was not made by this TPM, or was altered)",
            0x0A2 => "TPM_RC_BAD_AUTH",
            0x100 => "TPM_RC_INITIALIZE (the TPM was not started)",
            0x128 => "TPM_RC_PCR_CHANGED",
            0x902 => "TPM_RC_OBJECT_MEMORY (out of object slots)",
            0x921 => "TPM_RC_LOCKOUT (dictionary-attack lockout)",
            0x922 => "TPM_RC_RETRY",
            _ => "",
        };
        return name.Length == 0 ? $"response code 0x{code:x3}" : $"{name}, response code 0x{code:x3}";
    }
}

namespace InitOs.Init.Trust;

/// <summary>A signature that is malformed, from a key not trusted, or over other bytes; the message says which.</summary>
public sealed class SignatureException(string message) : Exception(message);

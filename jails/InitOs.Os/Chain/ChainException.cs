namespace InitOs.Os.Chain;

/// <summary>A helper could not do its one thing; the message names what was wrong.</summary>
public sealed class ChainException(string message) : Exception(message);

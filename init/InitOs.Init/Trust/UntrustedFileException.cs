namespace InitOs.Init.Trust;

/// <summary>A file from an unsigned place that does not match what the signed image says it must be; the message names it.</summary>
public sealed class UntrustedFileException : Exception
{
    public UntrustedFileException(string path, string message)
        : base(message) => Path = path;

    /// <summary>The file as the machine sees it (for the data volume: under /run/initos/data).</summary>
    public string Path { get; }
}

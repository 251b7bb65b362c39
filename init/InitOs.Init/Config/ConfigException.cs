namespace InitOs.Init.Config;

/// <summary>A config error that names the file, the line and the key.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, int line, string? key, string problem)
        : base(key is null ? $"{file}:{line}: {problem}" : $"{file}:{line}: {key}: {problem}")
    {
        File = file;
        Line = line;
        Key = key;
    }

    public ConfigException() : base("invalid config") { File = ""; }

    public ConfigException(string message) : base(message) { File = ""; }

    public ConfigException(string message, Exception inner) : base(message, inner) { File = ""; }

    public string File { get; }
    public int Line { get; }
    public string? Key { get; }
}

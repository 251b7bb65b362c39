namespace InitOs.Admin;

/// <summary>
/// Host keys pinned on first use: one line per host, "HOST:PORT KEYTYPE SHA256:FINGERPRINT".
/// An unknown host's key is recorded; a known host must present the same key again, or the
/// connection is refused, naming the file and line to remove if the change is expected.
/// </summary>
public sealed class KnownHosts(string path)
{
    public string Path { get; } = path;

    public static string DefaultPath => System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "initos", "known_hosts");

    /// <summary>Trusts and records an unknown host; returns null when trusted, else why not.</summary>
    public string? Check(string host, int port, string keyType, string fingerprint)
    {
        var name = $"{host}:{port}";
        var lines = File.Exists(Path) ? File.ReadAllLines(Path) : [];
        for (int i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3 || fields[0] != name)
            {
                continue;
            }
            return fields[1] == keyType && fields[2] == fingerprint
                ? null
                : $"the host key of {name} changed: it was {fields[1]} {fields[2]}, now {keyType} {fingerprint}. If that is expected (a reinstalled machine), remove line {i + 1} of {Path}";
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        File.AppendAllText(Path, $"{name} {keyType} {fingerprint}\n");
        return null;
    }
}

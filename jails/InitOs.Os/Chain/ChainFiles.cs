namespace InitOs.Os.Chain;

/// <summary>
/// Reading a helper's file with plain-words errors: the box is built without the framework's
/// message texts (UseSystemResourceKeys), so an exception's own message would be a resource key.
/// </summary>
public static class ChainFiles
{
    public static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ChainException($"{what} {path}: {Describe(e)}");
        }
    }

    /// <summary>A helper file's lines that say something, numbered from 1 (blank lines and # comments left out), without their '\r'.</summary>
    public static IEnumerable<(int Number, string Line)> Lines(string text) =>
        text.Split('\n').Select((line, i) => (Number: i + 1, Line: line.TrimEnd('\r')))
            .Where(l => l.Line.Trim().Length > 0 && !l.Line.TrimStart().StartsWith('#'));

    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        InitOs.Sys.SysException or ChainException => e.Message,
        _ => $"{e.GetType().Name} (errno {e.HResult & 0xFFFF})",
    };
}

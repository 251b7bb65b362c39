namespace InitOs.Init.Supervision;

/// <summary>One line of /proc/self/mountinfo, the parts shutdown needs.</summary>
public sealed record MountEntry(string MountPoint, string FsType, string Source);

public static class MountTable
{
    /// <summary>Mounts in the order they were made (mountinfo's order).</summary>
    public static IReadOnlyList<MountEntry> Read(string path = "/proc/self/mountinfo") =>
        File.ReadLines(path).Select(Parse).ToList();

    public static MountEntry Parse(string line)
    {
        var fields = line.Split(' ');
        int separator = Array.IndexOf(fields, "-");
        return new MountEntry(Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2]));
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as \040-style octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }
}

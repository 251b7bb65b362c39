using System.Globalization;

namespace InitOs.Os.Chain;

/// <summary>One /etc/passwd entry: what `chain user` needs of it.</summary>
public sealed record UserEntry(string Name, uint Uid, uint Gid, string Home);

/// <summary>One /etc/group entry.</summary>
public sealed record GroupEntry(string Name, uint Gid, IReadOnlyList<string> Members);

/// <summary>
/// The jail's own /etc/passwd and /etc/group, read as files (no NSS module of the host or of
/// the jail is loaded): the users a jail's image defines are the ones it means.
/// </summary>
public sealed class UserDatabase(IReadOnlyList<UserEntry> users, IReadOnlyList<GroupEntry> groups)
{
    public IReadOnlyList<UserEntry> Users { get; } = users;
    public IReadOnlyList<GroupEntry> Groups { get; } = groups;

    public static UserDatabase Read(string passwd = "/etc/passwd", string group = "/etc/group") =>
        new(File.Exists(passwd) ? ParseUsers(passwd, ChainFiles.ReadText(passwd, "users:")) : [],
            File.Exists(group) ? ParseGroups(group, ChainFiles.ReadText(group, "groups:")) : []);

    public static IReadOnlyList<UserEntry> ParseUsers(string file, string text) =>
        Records(file, text, 7, (f, at) => new UserEntry(f[0], Id(f[2], file, at, "uid"), Id(f[3], file, at, "gid"), f[5]));

    public static IReadOnlyList<GroupEntry> ParseGroups(string file, string text) =>
        Records(file, text, 4, (f, at) => new GroupEntry(f[0], Id(f[2], file, at, "gid"),
            f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    private static List<T> Records<T>(string file, string text, int fields, Func<string[], int, T> make)
    {
        var records = new List<T>();
        foreach (var (number, line) in ChainFiles.Lines(text))
        {
            var f = line.Split(':');
            if (f.Length != fields)
            {
                throw new ChainException($"{file}:{number}: {f.Length} fields, expected {fields}");
            }
            records.Add(make(f, number));
        }
        return records;
    }

    private static uint Id(string text, string file, int line, string what) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ChainException($"{file}:{line}: {what} \"{text}\" is not a number");
}

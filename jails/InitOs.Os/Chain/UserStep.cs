using System.Globalization;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// `chain user USER[:GROUP]`: become USER for good (real, effective and saved ids), with the
/// supplementary groups /etc/group lists it in, as login and su do; GROUP, when given,
/// replaces the primary group and no supplementary groups are kept (gosu's rule). A number
/// that /etc/passwd does not know is taken as it is, with its own number as the group.
/// HOME, USER and LOGNAME follow the user.
/// </summary>
public static class UserStep
{
    public sealed record Identity(uint Uid, uint Gid, IReadOnlyList<uint> Groups, string Name, string Home);

    public static ChainState Run(IReadOnlyList<string> args, ChainState state)
    {
        if (args.Count != 1)
        {
            throw new ChainException("expects one USER[:GROUP]");
        }
        var identity = Resolve(args[0], UserDatabase.Read());
        try
        {
            Credentials.Become(identity.Uid, identity.Gid, identity.Groups);
        }
        catch (SysException e)
        {
            throw new ChainException($"cannot become {args[0]}: {e.Message}");
        }
        return state.With([new("HOME", identity.Home), new("USER", identity.Name), new("LOGNAME", identity.Name)]);
    }

    public static Identity Resolve(string spec, UserDatabase database)
    {
        var parts = spec.Split(':');
        if (parts.Length > 2 || parts[0].Length == 0 || (parts.Length == 2 && parts[1].Length == 0))
        {
            throw new ChainException($"\"{spec}\" is not USER or USER:GROUP");
        }
        var user = FindUser(parts[0], database);
        if (parts.Length == 2)
        {
            return user with { Gid = FindGroup(parts[1], database), Groups = [] };
        }
        var groups = database.Groups.Where(g => g.Members.Contains(user.Name, StringComparer.Ordinal)).Select(g => g.Gid)
            .Append(user.Gid).Distinct().Order().ToList();
        return user with { Groups = groups };
    }

    private static Identity FindUser(string text, UserDatabase database)
    {
        var entry = database.Users.FirstOrDefault(u => u.Name == text)
            ?? (IsNumber(text, out var uid) ? database.Users.FirstOrDefault(u => u.Uid == uid) : null);
        if (entry is not null)
        {
            return new Identity(entry.Uid, entry.Gid, [], entry.Name, entry.Home.Length > 0 ? entry.Home : "/");
        }
        if (IsNumber(text, out var number))
        {
            return new Identity(number, number, [], text, "/");
        }
        throw new ChainException($"no user \"{text}\" in /etc/passwd (users: {string.Join(", ", database.Users.Select(u => u.Name))})");
    }

    private static uint FindGroup(string text, UserDatabase database) =>
        database.Groups.FirstOrDefault(g => g.Name == text)?.Gid
            ?? (IsNumber(text, out var gid) ? gid
                : throw new ChainException($"no group \"{text}\" in /etc/group (groups: {string.Join(", ", database.Groups.Select(g => g.Name))})"));

    private static bool IsNumber(string text, out uint value) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}

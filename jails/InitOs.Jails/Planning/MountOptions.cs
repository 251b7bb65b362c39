using InitOs.Sys;

namespace InitOs.Jails.Planning;

/// <summary>fstab-style mount options → mount(2) flags, propagation and the fs-specific data string.</summary>
public static class MountOptions
{
    private const MountFlags ReadOnly = MountFlags.ReadOnly, NoSuid = MountFlags.NoSuid, NoDev = MountFlags.NoDev, NoExec = MountFlags.NoExec,
        Synchronous = MountFlags.Synchronous, DirSync = MountFlags.DirSync, NoAtime = MountFlags.NoAtime, NoDirAtime = MountFlags.NoDirAtime,
        Bind = MountFlags.Bind, Recursive = MountFlags.Recursive, Unbindable = MountFlags.Unbindable, Private = MountFlags.Private,
        Slave = MountFlags.Slave, Shared = MountFlags.Shared, RelAtime = MountFlags.RelAtime, StrictAtime = MountFlags.StrictAtime;

    private static readonly Dictionary<string, (bool Clear, MountFlags Flag)> Flags = new(StringComparer.Ordinal)
    {
        ["defaults"] = (false, 0), ["ro"] = (false, ReadOnly), ["rw"] = (true, ReadOnly),
        ["nosuid"] = (false, NoSuid), ["suid"] = (true, NoSuid), ["nodev"] = (false, NoDev), ["dev"] = (true, NoDev),
        ["noexec"] = (false, NoExec), ["exec"] = (true, NoExec), ["sync"] = (false, Synchronous), ["async"] = (true, Synchronous),
        ["dirsync"] = (false, DirSync), ["noatime"] = (false, NoAtime), ["atime"] = (true, NoAtime),
        ["nodiratime"] = (false, NoDirAtime), ["diratime"] = (true, NoDirAtime), ["relatime"] = (false, RelAtime),
        ["norelatime"] = (true, RelAtime), ["strictatime"] = (false, StrictAtime),
    };

    private static readonly Dictionary<string, MountFlags> Propagations = new(StringComparer.Ordinal)
    {
        ["private"] = Private, ["rprivate"] = Private | Recursive, ["slave"] = Slave, ["rslave"] = Slave | Recursive,
        ["shared"] = Shared, ["rshared"] = Shared | Recursive, ["unbindable"] = Unbindable, ["runbindable"] = Unbindable | Recursive,
    };

    /// <summary>Every option word with a meaning of its own here (others go to the filesystem as data).</summary>
    public static IEnumerable<string> Names => Flags.Keys.Concat(Propagations.Keys).Concat(["bind", "rbind"]);

    public static bool TryParsePropagation(string name, out MountFlags flags) => Propagations.TryGetValue(name, out flags);

    /// <summary>Parses options; unknown words go to the data string (tmpfs size=, devpts newinstance …).</summary>
    public static (MountFlags Flags, MountFlags Propagation, bool Bind, string? Data) Parse(IEnumerable<string> options)
    {
        MountFlags flags = MountFlags.None, propagation = MountFlags.None;
        bool bind = false;
        var data = new List<string>();
        foreach (var option in options)
        {
            if (Flags.TryGetValue(option, out var f))
            {
                flags = f.Clear ? flags & ~f.Flag : flags | f.Flag;
            }
            else if (Propagations.TryGetValue(option, out var p))
            {
                propagation = p;
            }
            else if (option is "bind" or "rbind")
            {
                bind = true;
                flags |= Bind | (option == "rbind" ? Recursive : MountFlags.None);
            }
            else
            {
                data.Add(option);
            }
        }
        return (flags, propagation, bind, data.Count > 0 ? string.Join(',', data) : null);
    }
}

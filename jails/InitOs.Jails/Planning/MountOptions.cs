namespace InitOs.Jails.Planning;

/// <summary>fstab-style mount options → mount(2) flags, propagation and the fs-specific data string.</summary>
public static class MountOptions
{
    public const ulong ReadOnly = 1, NoSuid = 2, NoDev = 4, NoExec = 8, Synchronous = 16, Remount = 32,
        DirSync = 128, NoAtime = 1024, NoDirAtime = 2048, Bind = 4096, Recursive = 16384,
        Unbindable = 1 << 17, Private = 1 << 18, Slave = 1 << 19, Shared = 1 << 20, RelAtime = 1 << 21,
        StrictAtime = 1 << 24;

    private static readonly Dictionary<string, (bool Clear, ulong Flag)> Flags = new(StringComparer.Ordinal)
    {
        ["defaults"] = (false, 0), ["ro"] = (false, ReadOnly), ["rw"] = (true, ReadOnly),
        ["nosuid"] = (false, NoSuid), ["suid"] = (true, NoSuid), ["nodev"] = (false, NoDev), ["dev"] = (true, NoDev),
        ["noexec"] = (false, NoExec), ["exec"] = (true, NoExec), ["sync"] = (false, Synchronous), ["async"] = (true, Synchronous),
        ["dirsync"] = (false, DirSync), ["noatime"] = (false, NoAtime), ["atime"] = (true, NoAtime),
        ["nodiratime"] = (false, NoDirAtime), ["diratime"] = (true, NoDirAtime), ["relatime"] = (false, RelAtime),
        ["norelatime"] = (true, RelAtime), ["strictatime"] = (false, StrictAtime),
    };

    private static readonly Dictionary<string, ulong> Propagations = new(StringComparer.Ordinal)
    {
        ["private"] = Private, ["rprivate"] = Private | Recursive, ["slave"] = Slave, ["rslave"] = Slave | Recursive,
        ["shared"] = Shared, ["rshared"] = Shared | Recursive, ["unbindable"] = Unbindable, ["runbindable"] = Unbindable | Recursive,
    };

    public static bool TryParsePropagation(string name, out ulong flags) => Propagations.TryGetValue(name, out flags);

    /// <summary>Parses options; unknown words go to the data string (tmpfs size=, devpts newinstance …).</summary>
    public static (ulong Flags, ulong Propagation, bool Bind, string? Data) Parse(IEnumerable<string> options)
    {
        ulong flags = 0, propagation = 0;
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
                flags |= Bind | (option == "rbind" ? Recursive : 0);
            }
            else
            {
                data.Add(option);
            }
        }
        return (flags, propagation, bind, data.Count > 0 ? string.Join(',', data) : null);
    }
}

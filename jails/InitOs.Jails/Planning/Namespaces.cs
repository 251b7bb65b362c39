using InitOs.Jails.Oci;

namespace InitOs.Jails.Planning;

/// <summary>linux.namespaces → CLONE_NEW* flags.</summary>
public static class Namespaces
{
    public const ulong Mount = 0x00020000, Cgroup = 0x02000000, Uts = 0x04000000, Ipc = 0x08000000,
        User = 0x10000000, Pid = 0x20000000, Network = 0x40000000;

    private static readonly Dictionary<string, ulong> Flags = new(StringComparer.Ordinal)
    {
        ["mount"] = Mount, ["cgroup"] = Cgroup, ["uts"] = Uts, ["ipc"] = Ipc,
        ["user"] = User, ["pid"] = Pid, ["network"] = Network,
    };

    /// <summary>The namespace types linux.namespaces may name.</summary>
    public static IEnumerable<string> Names => Flags.Keys;

    public static ulong Parse(IReadOnlyList<OciNamespace>? namespaces, Action<string, string> problem)
    {
        ulong flags = 0;
        foreach (var (ns, i) in (namespaces ?? []).Select((n, i) => (n, i)))
        {
            var field = $"linux.namespaces[{i}]";
            if (ns.Type is null || !Flags.TryGetValue(ns.Type, out var flag))
            {
                problem(field + ".type", $"\"{ns.Type}\" is not one of {string.Join(", ", Flags.Keys)}");
                continue;
            }
            if (ns.Path is not null)
            {
                problem(field + ".path", "joining an existing namespace is not supported; InitOS creates each jail's namespaces");
            }
            if ((flags & flag) != 0)
            {
                problem(field + ".type", $"\"{ns.Type}\" is listed twice");
            }
            flags |= flag;
        }
        if ((flags & Mount) == 0)
        {
            problem("linux.namespaces", "a mount namespace is required (the jail pivot_roots into its own root)");
        }
        if ((flags & Pid) == 0)
        {
            problem("linux.namespaces", "a pid namespace is required (the jail gets a fresh /proc and its own init)");
        }
        return flags;
    }
}

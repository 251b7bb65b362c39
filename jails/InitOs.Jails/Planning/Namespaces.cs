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

    /// <summary>The namespace types a spec may join by path: those a process enters with setns before anything else.</summary>
    private const ulong Joinable = Network | Ipc | Uts | Cgroup;

    public static ulong Parse(IReadOnlyList<OciNamespace>? namespaces, Action<string, string> problem) => Parse(namespaces, problem, out _);

    /// <param name="joined">The namespaces named by path: the jail joins them instead of making new ones.</param>
    public static ulong Parse(IReadOnlyList<OciNamespace>? namespaces, Action<string, string> problem, out List<JoinedNamespace> joined)
    {
        ulong flags = 0;
        joined = [];
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
                if ((flag & Joinable) == 0)
                {
                    problem(field + ".path", $"joining an existing {ns.Type} namespace is not supported (network, ipc, uts and cgroup ones are)");
                }
                else if (!ns.Path.StartsWith('/'))
                {
                    problem(field + ".path", $"\"{ns.Path}\" must be an absolute path");
                }
                else
                {
                    joined.Add(new JoinedNamespace(flag, ns.Type, ns.Path));
                }
            }
            if ((flags & flag) != 0)
            {
                problem(field + ".type", $"\"{ns.Type}\" is listed twice");
            }
            flags |= flag;
        }
        if (joined.Count > 0 && (flags & User) != 0)
        {
            problem("linux.namespaces", "joining a namespace by path together with a new user namespace is not supported");
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

/// <summary>A namespace the spec names by path: the jail's process joins it (setns) instead of making one.</summary>
public sealed record JoinedNamespace(ulong Flag, string Type, string Path);

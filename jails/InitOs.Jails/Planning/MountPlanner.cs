using InitOs.Jails.Oci;
using InitOs.Sys;

namespace InitOs.Jails.Planning;

/// <summary>mounts → mount steps inside the jail's root, checked before anything is mounted.</summary>
public static class MountPlanner
{
    private static readonly HashSet<string> FilesystemTypes = new(StringComparer.Ordinal)
    {
        "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "bind", "none",
    };

    /// <summary>
    /// The OCI "cgroup" type: with a cgroup namespace, a fresh cgroup2 mount (its root is the
    /// namespace's); without one a fresh mount would show the same host tree, so the host's
    /// /sys/fs/cgroup is bound instead — the same view, without a new superblock (13 ms here).
    /// </summary>
    private static MountStep CgroupMount(string destination, MountFlags flags, MountFlags propagation, ulong cloneFlags) =>
        (cloneFlags & Namespaces.Cgroup) != 0
            ? new MountStep(destination, "cgroup2", "cgroup", flags, null, propagation, false)
            : new MountStep(destination, "bind", "/sys/fs/cgroup", flags | MountFlags.Bind | MountFlags.Recursive, null, propagation, true);

    public static List<MountStep> Plan(IReadOnlyList<OciMount> mounts, string bundleDirectory, ulong cloneFlags, Action<string, string> problem)
    {
        var steps = new List<MountStep>();
        foreach (var (mount, i) in mounts.Select((m, i) => (m, i)))
        {
            var field = $"mounts[{i}]";
            if (mount.Destination is not { } destination || !destination.StartsWith('/') || destination.Split('/').Contains(".."))
            {
                problem(field + ".destination", $"\"{mount.Destination}\" must be an absolute path without ..");
                continue;
            }
            var (flags, propagation, bind, data) = MountOptions.Parse(mount.Options ?? []);
            var type = mount.Type ?? (bind ? "bind" : null);
            if (type is null || !FilesystemTypes.Contains(type))
            {
                problem(field + ".type", $"\"{mount.Type}\" is not one of {string.Join(", ", FilesystemTypes)}");
                continue;
            }
            if (type == "bind")
            {
                bind = true;
                flags |= MountFlags.Bind;
            }
            string? source = mount.Source;
            if (bind)
            {
                if (source is null)
                {
                    problem(field + ".source", "a bind mount needs a source");
                    continue;
                }
                source = Path.GetFullPath(Path.Combine(bundleDirectory, source));
                if (!File.Exists(source) && !Directory.Exists(source))
                {
                    problem(field + ".source", $"{source} does not exist");
                    continue;
                }
                if (data is not null)
                {
                    problem(field + ".options", $"\"{data}\" is not a bind mount option");
                    continue;
                }
            }
            if (type == "cgroup")
            {
                steps.Add(CgroupMount(destination, flags, propagation, cloneFlags));
                continue;
            }
            steps.Add(new MountStep(destination, type, source, flags, data, propagation, bind));
        }
        return steps;
    }
}

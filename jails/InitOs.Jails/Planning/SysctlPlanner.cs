namespace InitOs.Jails.Planning;

/// <summary>linux.sysctl → writes under the jail's /proc/sys; only namespaced keys are allowed.</summary>
public static class SysctlPlanner
{
    public static List<SysctlSetting> Plan(IReadOnlyDictionary<string, string>? sysctl, ulong cloneFlags, Action<string, string> problem)
    {
        var result = new List<SysctlSetting>();
        foreach (var (key, value) in (sysctl ?? new Dictionary<string, string>()).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var field = $"linux.sysctl.{key}";
            if (key.Contains('/', StringComparison.Ordinal) || key.Contains("..", StringComparison.Ordinal))
            {
                problem(field, "not a sysctl name");
                continue;
            }
            if (key == "kernel.hostname")
            {
                problem(field, "the jail's hostname is the spec's hostname field, not a sysctl (as runc refuses it)");
                continue;
            }
            var needs = NamespaceOf(key);
            if (needs is null)
            {
                problem(field, "not a namespaced sysctl: setting it would change the host");
                continue;
            }
            if ((cloneFlags & needs.Value.Flag) == 0)
            {
                problem(field, $"needs a {needs.Value.Name} namespace (linux.namespaces)");
                continue;
            }
            result.Add(new SysctlSetting(key, value));
        }
        return result;
    }

    private static (ulong Flag, string Name)? NamespaceOf(string key) =>
        key.StartsWith("net.", StringComparison.Ordinal) ? (Namespaces.Network, "network")
        : key is "kernel.shmmax" or "kernel.shmall" or "kernel.shmmni" or "kernel.shm_rmid_forced" or "kernel.msgmax"
            or "kernel.msgmnb" or "kernel.msgmni" or "kernel.sem" || key.StartsWith("fs.mqueue.", StringComparison.Ordinal) ? (Namespaces.Ipc, "ipc")
        : key is "kernel.hostname" or "kernel.domainname" ? (Namespaces.Uts, "uts")
        : null;
}

using InitOs.Jails.Oci;
using InitOs.Jails.Seccomp;
using InitOs.Sys;

namespace InitOs.Jails.Planning;

/// <summary>
/// Spec → plan. Checks every field InitOS acts on and collects all problems, each naming its
/// field, before anything on the machine is touched.
/// </summary>
public sealed class JailPlanner
{
    private readonly List<string> _problems = [];
    private readonly List<string> _warnings = [];
    private bool _allowHooks;

    /// <summary>
    /// The annotation that puts InitOS's tini in front of the program (it then is not PID 1 of the
    /// jail: InitOS reaps and forwards signals for it). Without it the program is PID 1, as runc makes it.
    /// </summary>
    public const string TiniAnnotation = "org.initos.jail.tini";

    private JailPlanner()
    {
    }

    /// <param name="stateDirectory">The jail's directory under /run (its root is assembled there).</param>
    /// <param name="allowHooks">The caller of `initos jail` chose the bundle: its hooks run (as host root).</param>
    public static JailPlan Plan(Bundle bundle, string id, string stateDirectory, OverlayDirs? overlay = null, PoolLease? lease = null, bool allowHooks = false)
    {
        var planner = new JailPlanner { _allowHooks = allowHooks };
        var plan = planner.Build(bundle, id, stateDirectory, overlay);
        if (planner._problems.Count > 0 || plan is null)
        {
            throw new SpecException(bundle.ConfigPath, planner._problems);
        }
        return plan with { Lease = lease, Warnings = planner._warnings };
    }

    private void Problem(string field, string message) => _problems.Add($"{field}: {message}");

    private void Warning(string field, string message) => _warnings.Add($"{field}: {message}");

    private JailPlan? Build(Bundle bundle, string id, string stateDirectory, OverlayDirs? overlay)
    {
        var spec = bundle.Spec;
        CheckVersion(spec.OciVersion);
        var rootfs = Rootfs(bundle, spec.Root);
        var linux = spec.Linux ?? new OciLinux();
        var cloneFlags = Namespaces.Parse(linux.Namespaces, Problem, out var joined);
        var process = ProcessPlanner.Plan(spec.Process, linux.Seccomp, Problem, Warning);
        var limits = ResourcePlanner.Plan(linux.Resources, Problem);
        var hooks = HookPlanner.Plan(spec.Hooks, _allowHooks, Problem);
        if (spec.Hostname is not null && (cloneFlags & Namespaces.Uts) == 0)
        {
            Problem("hostname", "needs a uts namespace (linux.namespaces)");
        }
        var propagation = Propagation(linux.RootfsPropagation);
        var mounts = MountPlanner.Plan(spec.Mounts ?? [], bundle.Directory, cloneFlags, Problem);
        var devices = DevicePlanner.Plan(linux.Devices ?? [], Problem);
        var sysctls = SysctlPlanner.Plan(linux.Sysctl, cloneFlags, Problem);
        var (uidMap, gidMap) = IdMaps(linux, cloneFlags);
        CheckPaths("linux.maskedPaths", linux.MaskedPaths);
        CheckPaths("linux.readonlyPaths", linux.ReadonlyPaths);
        if (rootfs is null || process is null || _problems.Count > 0)
        {
            return null;
        }
        return new JailPlan
        {
            Id = id,
            BundleDirectory = bundle.Directory,
            RootfsSource = rootfs,
            RootMountPoint = Path.Combine(stateDirectory, "root"),
            Overlay = overlay,
            RootReadonly = spec.Root!.Readonly,
            CloneFlags = cloneFlags,
            RootPropagation = propagation,
            Mounts = mounts,
            Devices = devices,
            MaskedPaths = linux.MaskedPaths ?? [],
            ReadonlyPaths = linux.ReadonlyPaths ?? [],
            Sysctls = sysctls,
            Hostname = spec.Hostname,
            UidMap = uidMap,
            GidMap = gidMap,
            Process = process,
            Limits = limits,
            CgroupPath = CgroupPath(linux.CgroupsPath, id),
            ProgramIsInit = !WantsTini(spec.Annotations),
            Hooks = hooks,
            JoinedNamespaces = joined,
            Annotations = spec.Annotations ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>
    /// linux.cgroupsPath: absolute means from the cgroup2 root, relative means under initos/;
    /// systemd's "slice:prefix:name" form is not supported.
    /// </summary>
    private string CgroupPath(string? path, string id)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "initos/" + id;
        }
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (path.Contains(':', StringComparison.Ordinal) || parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            Problem("linux.cgroupsPath", $"\"{path}\" must be a cgroup path without . or .. (systemd's slice:prefix:name form is not supported)");
            return "initos/" + id;
        }
        return path.StartsWith('/') ? string.Join('/', parts) : "initos/" + string.Join('/', parts);
    }

    private bool WantsTini(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null || !annotations.TryGetValue(TiniAnnotation, out var value))
        {
            return false;
        }
        if (value is not ("true" or "false"))
        {
            Problem($"annotations[\"{TiniAnnotation}\"]", $"\"{value}\" must be \"true\" or \"false\"");
        }
        return value == "true";
    }

    private void CheckVersion(string? version)
    {
        if (version is null)
        {
            Problem("ociVersion", "missing");
        }
        else if (!version.StartsWith("1.", StringComparison.Ordinal))
        {
            Problem("ociVersion", $"\"{version}\": InitOS runs runtime-spec 1.x");
        }
    }

    private string? Rootfs(Bundle bundle, OciRoot? root)
    {
        if (root?.Path is not { Length: > 0 } path)
        {
            Problem("root.path", "missing");
            return null;
        }
        var full = Path.GetFullPath(Path.Combine(bundle.Directory, path));
        if (!Directory.Exists(full))
        {
            Problem("root.path", $"{full} is not a directory");
            return null;
        }
        return full;
    }

    private MountFlags Propagation(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            // Host mounts flow into the jail, nothing flows back (SECURITY.md).
            return MountFlags.Slave | MountFlags.Recursive;
        }
        if (!MountOptions.TryParsePropagation(name, out var flags))
        {
            Problem("linux.rootfsPropagation", $"\"{name}\" is not one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable");
        }
        else if ((flags & MountFlags.Shared) != 0)
        {
            Problem("linux.rootfsPropagation", $"\"{name}\" would let jail mounts reach the host; InitOS refuses it");
        }
        return flags;
    }

    private (IReadOnlyList<IdMap>, IReadOnlyList<IdMap>) IdMaps(OciLinux linux, ulong cloneFlags)
    {
        var uid = (linux.UidMappings ?? []).Select(m => new IdMap(m.ContainerId, m.HostId, m.Size)).ToList();
        var gid = (linux.GidMappings ?? []).Select(m => new IdMap(m.ContainerId, m.HostId, m.Size)).ToList();
        bool userNamespace = (cloneFlags & Namespaces.User) != 0;
        if (!userNamespace && (uid.Count > 0 || gid.Count > 0))
        {
            Problem("linux.uidMappings", "mappings need a user namespace (linux.namespaces)");
        }
        if (userNamespace && (uid.Count == 0) != (gid.Count == 0))
        {
            Problem("linux.uidMappings", "give both uidMappings and gidMappings, or neither (InitOS then allocates a host range)");
        }
        foreach (var (map, i) in uid.Concat(gid).Select((m, i) => (m, i)))
        {
            if (map.Count == 0)
            {
                Problem($"linux.{(i < uid.Count ? "uid" : "gid")}Mappings", "a mapping of size 0");
            }
        }
        return (uid, gid);
    }

    private void CheckPaths(string field, IReadOnlyList<string>? paths)
    {
        foreach (var (path, i) in (paths ?? []).Select((p, i) => (p, i)))
        {
            if (!path.StartsWith('/') || path.Split('/').Contains(".."))
            {
                Problem($"{field}[{i}]", $"\"{path}\" must be an absolute path without ..");
            }
        }
    }
}

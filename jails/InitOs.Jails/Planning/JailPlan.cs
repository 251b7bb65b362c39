using InitOs.Sys;

namespace InitOs.Jails.Planning;

/// <summary>
/// Everything needed to run one jail, decided before anything is touched: the host side
/// reads it to clone and prepare, the jail side (jail-init) to build the root and exec.
/// Plain data, serialized as JSON to the jail-init process.
/// </summary>
public sealed record JailPlan
{
    public required string Id { get; init; }
    public required string BundleDirectory { get; init; }
    /// <summary>The image directory (the bundle's root.path, absolute).</summary>
    public required string RootfsSource { get; init; }
    /// <summary>Where the jail's root is assembled (a directory under the jail's state dir).</summary>
    public required string RootMountPoint { get; init; }
    /// <summary>Overlay upper/work dirs; null binds the image itself.</summary>
    public OverlayDirs? Overlay { get; init; }
    /// <summary>The pool slot holding the overlay's upper, released (destroyed and re-created) when the jail ends.</summary>
    public PoolLease? Lease { get; init; }
    public bool RootReadonly { get; init; }
    /// <summary>CLONE_NEW* flags for the jail's namespaces.</summary>
    public required ulong CloneFlags { get; init; }
    /// <summary>MS_* propagation for the jail's whole mount tree (default MS_SLAVE|MS_REC).</summary>
    public required MountFlags RootPropagation { get; init; }
    public IReadOnlyList<MountStep> Mounts { get; init; } = [];
    public IReadOnlyList<DeviceNode> Devices { get; init; } = [];
    public IReadOnlyList<string> MaskedPaths { get; init; } = [];
    public IReadOnlyList<string> ReadonlyPaths { get; init; } = [];
    public IReadOnlyList<SysctlSetting> Sysctls { get; init; } = [];
    public string? Hostname { get; init; }
    public IReadOnlyList<IdMap> UidMap { get; init; } = [];
    public IReadOnlyList<IdMap> GidMap { get; init; } = [];
    /// <summary>The host range InitOS allocated for a user namespace the spec gave no mappings for.</summary>
    public uint? IdRangeStart { get; init; }
    public required ProcessPlan Process { get; init; }
    /// <summary>cgroup v2 files written in the jail's cgroup before its init runs (linux.resources).</summary>
    public IReadOnlyList<CgroupSetting> Limits { get; init; } = [];
    /// <summary>The jail's cgroup, relative to the cgroup2 root (linux.cgroupsPath, or initos/ID).</summary>
    public required string CgroupPath { get; init; }
    /// <summary>How the host connects the jail's network namespace; null: left as the spec made it.</summary>
    public NetworkPlan? Network { get; init; }
    /// <summary>
    /// The program is the jail's PID 1 (an OS's init): jail-init execs it in its own place instead
    /// of starting it as a child in tini mode.
    /// </summary>
    public bool ProgramIsInit { get; init; }
    /// <summary>What the planner left out rather than refused, for the caller to print (never sent to the jail).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Namespaces (among <see cref="CloneFlags"/>) joined by path instead of made new.</summary>
    public IReadOnlyList<JoinedNamespace> JoinedNamespaces { get; init; } = [];
    /// <summary>Programs run on the host at points of the jail's life (only from a bundle given to `initos jail`).</summary>
    public IReadOnlyList<HookPlan> Hooks { get; init; } = [];
    /// <summary>The spec's annotations: part of the state hooks are given.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    /// <summary>The caller's fds 3…3+N-1 that reach the program at the same numbers (runc's --preserve-fds).</summary>
    public int PreservedFds { get; init; }
    /// <summary>
    /// With a user namespace: the host mounts an idmapped copy of the image at <see cref="IdmappedLower"/>
    /// and the overlay uses that as its lower layer, so files of host root are the jail's root's.
    /// </summary>
    public bool IdmapLower { get; init; }
    public string IdmappedLower => Path.Combine(Path.GetDirectoryName(RootMountPoint)!, "lower");
    /// <summary>A host terminal (a pty's /dev/pts/N) bound onto the jail's /dev/console and given to the program as stdio.</summary>
    public string? Console { get; init; }
}

/// <summary>--network: bridge (veth on the bridge, an address from the subnet), none (lo only), host.</summary>
public sealed record NetworkPlan(Network.NetworkMode Mode, string Bridge, string Subnet);

public sealed record OverlayDirs(string Upper, string Work);

public sealed record PoolLease(string PoolDirectory, int Slot, string Token);

/// <summary>One mount(2) inside the jail's root; Destination is relative to that root.</summary>
public sealed record MountStep(string Destination, string Type, string? Source, MountFlags Flags, string? Data, MountFlags Propagation, bool Bind)
{
    /// <summary>A bind whose source the host cloned (open_tree) and passed as this fd: attached with move_mount.</summary>
    public int? TreeFd { get; init; }
}

public sealed record DeviceNode(string Path, char Kind, long Major, long Minor, uint Mode, uint Uid, uint Gid);

public sealed record SysctlSetting(string Key, string Value)
{
    public string ProcPath => "/proc/sys/" + Key.Replace('.', '/');
}

public sealed record IdMap(uint Inside, uint Outside, uint Count);

public sealed record ProcessPlan
{
    public required IReadOnlyList<string> Args { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public string Cwd { get; init; } = "/";
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public IReadOnlyList<uint> AdditionalGids { get; init; } = [];
    public uint? Umask { get; init; }
    public required CapabilitySets Capabilities { get; init; }
    public IReadOnlyList<RlimitSetting> Rlimits { get; init; } = [];
    public bool NoNewPrivileges { get; init; }
    /// <summary>process.terminal: the program's stdio is a new pseudo-terminal (its master goes to the caller).</summary>
    public bool Terminal { get; init; }
    /// <summary>Classic BPF for SECCOMP_MODE_FILTER (8 bytes per instruction).</summary>
    public required byte[] Seccomp { get; init; }
}

/// <summary>Capability sets as bit masks (bit n = capability n).</summary>
public sealed record CapabilitySets(ulong Bounding, ulong Effective, ulong Permitted, ulong Inheritable, ulong Ambient);

public sealed record RlimitSetting(int Resource, ulong Soft, ulong Hard);

namespace InitOs.Jails.Oci;

// The subset of the OCI runtime spec (config.json, runtime-spec 1.x) that InitOS runs.
// Every member the JSON may carry is read by SpecReader; anything else is refused with its
// line and JSON path, never silently ignored.

public sealed record OciSpec
{
    public string? OciVersion { get; init; }
    public OciRoot? Root { get; init; }
    public IReadOnlyList<OciMount>? Mounts { get; init; }
    public OciProcess? Process { get; init; }
    public string? Hostname { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    public OciLinux? Linux { get; init; }
    public OciHooks? Hooks { get; init; }
}

/// <summary>hooks: programs the runtime runs on the host at points of the lifecycle.</summary>
public sealed record OciHooks
{
    public IReadOnlyList<OciHook>? Prestart { get; init; }
    public IReadOnlyList<OciHook>? CreateRuntime { get; init; }
    public IReadOnlyList<OciHook>? CreateContainer { get; init; }
    public IReadOnlyList<OciHook>? StartContainer { get; init; }
    public IReadOnlyList<OciHook>? Poststart { get; init; }
    public IReadOnlyList<OciHook>? Poststop { get; init; }
}

public sealed record OciHook
{
    public string? Path { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public uint? Timeout { get; init; }
}

public sealed record OciRoot
{
    public string? Path { get; init; }
    public bool Readonly { get; init; }
}

public sealed record OciMount
{
    public string? Destination { get; init; }
    public string? Type { get; init; }
    public string? Source { get; init; }
    public IReadOnlyList<string>? Options { get; init; }
}

public sealed record OciProcess
{
    public bool Terminal { get; init; }
    public OciUser? User { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public string? Cwd { get; init; }
    public OciCapabilities? Capabilities { get; init; }
    public IReadOnlyList<OciRlimit>? Rlimits { get; init; }
    public bool NoNewPrivileges { get; init; }
}

public sealed record OciUser
{
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint? Umask { get; init; }
    public IReadOnlyList<uint>? AdditionalGids { get; init; }
}

public sealed record OciCapabilities
{
    public IReadOnlyList<string>? Bounding { get; init; }
    public IReadOnlyList<string>? Effective { get; init; }
    public IReadOnlyList<string>? Inheritable { get; init; }
    public IReadOnlyList<string>? Permitted { get; init; }
    public IReadOnlyList<string>? Ambient { get; init; }
}

public sealed record OciRlimit
{
    public string? Type { get; init; }
    public ulong Hard { get; init; }
    public ulong Soft { get; init; }
}

public sealed record OciLinux
{
    public IReadOnlyList<OciNamespace>? Namespaces { get; init; }
    public IReadOnlyList<OciIdMapping>? UidMappings { get; init; }
    public IReadOnlyList<OciIdMapping>? GidMappings { get; init; }
    public IReadOnlyList<string>? MaskedPaths { get; init; }
    public IReadOnlyList<string>? ReadonlyPaths { get; init; }
    public string? RootfsPropagation { get; init; }
    public OciResources? Resources { get; init; }
    public OciSeccomp? Seccomp { get; init; }
    public IReadOnlyDictionary<string, string>? Sysctl { get; init; }
    public IReadOnlyList<OciDevice>? Devices { get; init; }
    public string? CgroupsPath { get; init; }
}

public sealed record OciNamespace
{
    public string? Type { get; init; }
    public string? Path { get; init; }
}

public sealed record OciIdMapping
{
    public uint ContainerId { get; init; }
    public uint HostId { get; init; }
    public uint Size { get; init; }
}

/// <summary>linux.resources: the cgroup v2 limits InitOS applies (any other member is refused by name).</summary>
public sealed record OciResources
{
    public OciMemory? Memory { get; init; }
    public OciPids? Pids { get; init; }
    public OciCpu? Cpu { get; init; }
    public IReadOnlyList<OciDeviceRule>? Devices { get; init; }
}

public sealed record OciMemory
{
    public long? Limit { get; init; }
    public long? Reservation { get; init; }
    /// <summary>Memory plus swap, as cgroup v1 counted it.</summary>
    public long? Swap { get; init; }
}

public sealed record OciPids
{
    public long? Limit { get; init; }
}

public sealed record OciCpu
{
    public ulong? Shares { get; init; }
    public long? Quota { get; init; }
    public ulong? Period { get; init; }
}

/// <summary>A device cgroup rule (linux.resources.devices).</summary>
public sealed record OciDeviceRule
{
    public bool Allow { get; init; }
    public string? Type { get; init; }
    public long? Major { get; init; }
    public long? Minor { get; init; }
    public string? Access { get; init; }
}

public sealed record OciSeccomp
{
    public string? DefaultAction { get; init; }
    public uint? DefaultErrnoRet { get; init; }
    public IReadOnlyList<string>? Architectures { get; init; }
    public IReadOnlyList<OciSyscallRule>? Syscalls { get; init; }
}

public sealed record OciSyscallRule
{
    public IReadOnlyList<string>? Names { get; init; }
    public string? Action { get; init; }
    public uint? ErrnoRet { get; init; }
    public IReadOnlyList<OciSyscallArg>? Args { get; init; }
}

/// <summary>A condition on one argument: libseccomp's comparison (SCMP_CMP_*) of argument Index.</summary>
public sealed record OciSyscallArg
{
    public uint? Index { get; init; }
    public ulong Value { get; init; }
    public ulong ValueTwo { get; init; }
    public string? Op { get; init; }
}

public sealed record OciDevice
{
    public string? Path { get; init; }
    public string? Type { get; init; }
    public long Major { get; init; }
    public long Minor { get; init; }
    public uint? FileMode { get; init; }
    public uint? Uid { get; init; }
    public uint? Gid { get; init; }
}

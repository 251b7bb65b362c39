namespace InitOs.Jails.Oci;

/// <summary>
/// config.json → <see cref="OciSpec"/>: for each object of the model, one switch over the
/// members InitOS supports; any other member is refused by name (<see cref="Unknown{T}"/>).
/// </summary>
internal static class SpecReader
{
    /// <summary>Applies one member of an object to the record read so far.</summary>
    private delegate T MemberReader<T>(ref JsonCursor c, string name, string field, T current);

    public static OciSpec? Spec(ref JsonCursor c, string path) => Object(ref c, path, new OciSpec(), SpecMember);

    /// <summary>An object, member by member; null when the value is null or not an object (the latter is a problem).</summary>
    private static T? Object<T>(ref JsonCursor c, string path, T empty, MemberReader<T> member)
        where T : class
    {
        if (!c.Object(path))
        {
            return null;
        }
        var value = empty;
        while (c.Member(path, out var name, out var field))
        {
            value = member(ref c, name, field, value);
        }
        return value;
    }

    private static T Unknown<T>(ref JsonCursor c, string field, T unchanged)
    {
        c.Unknown(field);
        return unchanged;
    }

    private static OciSpec SpecMember(ref JsonCursor c, string name, string field, OciSpec spec) => name switch
    {
        "ociVersion" => spec with { OciVersion = c.String(field) },
        "root" => spec with { Root = Object(ref c, field, new OciRoot(), RootMember) },
        "mounts" => spec with { Mounts = c.Array(field, Mount) },
        "process" => spec with { Process = Object(ref c, field, new OciProcess(), ProcessMember) },
        "hostname" => spec with { Hostname = c.String(field) },
        "annotations" => spec with { Annotations = c.StringMap(field) },
        "linux" => spec with { Linux = Object(ref c, field, new OciLinux(), LinuxMember) },
        "hooks" => spec with { Hooks = Object(ref c, field, new OciHooks(), HooksMember) },
        _ => Unknown(ref c, field, spec),
    };

    private static OciHooks HooksMember(ref JsonCursor c, string name, string field, OciHooks hooks) => name switch
    {
        "prestart" => hooks with { Prestart = c.Array(field, Hook) },
        "createRuntime" => hooks with { CreateRuntime = c.Array(field, Hook) },
        "createContainer" => hooks with { CreateContainer = c.Array(field, Hook) },
        "startContainer" => hooks with { StartContainer = c.Array(field, Hook) },
        "poststart" => hooks with { Poststart = c.Array(field, Hook) },
        "poststop" => hooks with { Poststop = c.Array(field, Hook) },
        _ => Unknown(ref c, field, hooks),
    };

    private static OciHook Hook(ref JsonCursor c, string path) => Object(ref c, path, new OciHook(), HookMember) ?? new OciHook();

    private static OciHook HookMember(ref JsonCursor c, string name, string field, OciHook hook) => name switch
    {
        "path" => hook with { Path = c.String(field) },
        "args" => hook with { Args = c.Array(field, JsonCursor.StringElement) },
        "env" => hook with { Env = c.Array(field, JsonCursor.StringElement) },
        "timeout" => hook with { Timeout = c.UInt32(field) },
        _ => Unknown(ref c, field, hook),
    };

    private static OciRoot RootMember(ref JsonCursor c, string name, string field, OciRoot root) => name switch
    {
        "path" => root with { Path = c.String(field) },
        "readonly" => root with { Readonly = c.Bool(field) },
        _ => Unknown(ref c, field, root),
    };

    private static OciMount Mount(ref JsonCursor c, string path) => Object(ref c, path, new OciMount(), MountMember) ?? new OciMount();

    private static OciMount MountMember(ref JsonCursor c, string name, string field, OciMount mount) => name switch
    {
        "destination" => mount with { Destination = c.String(field) },
        "type" => mount with { Type = c.String(field) },
        "source" => mount with { Source = c.String(field) },
        "options" => mount with { Options = c.Array(field, JsonCursor.StringElement) },
        _ => Unknown(ref c, field, mount),
    };

    private static OciProcess ProcessMember(ref JsonCursor c, string name, string field, OciProcess process) => name switch
    {
        "terminal" => process with { Terminal = c.Bool(field) },
        "user" => process with { User = Object(ref c, field, new OciUser(), UserMember) },
        "args" => process with { Args = c.Array(field, JsonCursor.StringElement) },
        "env" => process with { Env = c.Array(field, JsonCursor.StringElement) },
        "cwd" => process with { Cwd = c.String(field) },
        "capabilities" => process with { Capabilities = Object(ref c, field, new OciCapabilities(), CapabilitiesMember) },
        "rlimits" => process with { Rlimits = c.Array(field, Rlimit) },
        "noNewPrivileges" => process with { NoNewPrivileges = c.Bool(field) },
        _ => Unknown(ref c, field, process),
    };

    private static OciUser UserMember(ref JsonCursor c, string name, string field, OciUser user) => name switch
    {
        "uid" => user with { Uid = c.UInt32(field) ?? 0 },
        "gid" => user with { Gid = c.UInt32(field) ?? 0 },
        "umask" => user with { Umask = c.UInt32(field) },
        "additionalGids" => user with { AdditionalGids = c.Array(field, JsonCursor.UInt32Element) },
        _ => Unknown(ref c, field, user),
    };

    private static OciCapabilities CapabilitiesMember(ref JsonCursor c, string name, string field, OciCapabilities caps) => name switch
    {
        "bounding" => caps with { Bounding = c.Array(field, JsonCursor.StringElement) },
        "effective" => caps with { Effective = c.Array(field, JsonCursor.StringElement) },
        "inheritable" => caps with { Inheritable = c.Array(field, JsonCursor.StringElement) },
        "permitted" => caps with { Permitted = c.Array(field, JsonCursor.StringElement) },
        "ambient" => caps with { Ambient = c.Array(field, JsonCursor.StringElement) },
        _ => Unknown(ref c, field, caps),
    };

    private static OciRlimit Rlimit(ref JsonCursor c, string path) => Object(ref c, path, new OciRlimit(), RlimitMember) ?? new OciRlimit();

    private static OciRlimit RlimitMember(ref JsonCursor c, string name, string field, OciRlimit rlimit) => name switch
    {
        "type" => rlimit with { Type = c.String(field) },
        "hard" => rlimit with { Hard = c.UInt64(field) ?? 0 },
        "soft" => rlimit with { Soft = c.UInt64(field) ?? 0 },
        _ => Unknown(ref c, field, rlimit),
    };

    private static OciLinux LinuxMember(ref JsonCursor c, string name, string field, OciLinux linux) => name switch
    {
        "namespaces" => linux with { Namespaces = c.Array(field, Namespace) },
        "uidMappings" => linux with { UidMappings = c.Array(field, IdMapping) },
        "gidMappings" => linux with { GidMappings = c.Array(field, IdMapping) },
        "maskedPaths" => linux with { MaskedPaths = c.Array(field, JsonCursor.StringElement) },
        "readonlyPaths" => linux with { ReadonlyPaths = c.Array(field, JsonCursor.StringElement) },
        "rootfsPropagation" => linux with { RootfsPropagation = c.String(field) },
        "resources" => linux with { Resources = Object(ref c, field, new OciResources(), ResourcesMember) },
        "seccomp" => linux with { Seccomp = Object(ref c, field, new OciSeccomp(), SeccompMember) },
        "sysctl" => linux with { Sysctl = c.StringMap(field) },
        "devices" => linux with { Devices = c.Array(field, Device) },
        "cgroupsPath" => linux with { CgroupsPath = c.String(field) },
        _ => Unknown(ref c, field, linux),
    };

    private static OciNamespace Namespace(ref JsonCursor c, string path) => Object(ref c, path, new OciNamespace(), NamespaceMember) ?? new OciNamespace();

    private static OciNamespace NamespaceMember(ref JsonCursor c, string name, string field, OciNamespace ns) => name switch
    {
        "type" => ns with { Type = c.String(field) },
        "path" => ns with { Path = c.String(field) },
        _ => Unknown(ref c, field, ns),
    };

    private static OciIdMapping IdMapping(ref JsonCursor c, string path) => Object(ref c, path, new OciIdMapping(), IdMappingMember) ?? new OciIdMapping();

    private static OciIdMapping IdMappingMember(ref JsonCursor c, string name, string field, OciIdMapping map) => name switch
    {
        "containerID" => map with { ContainerId = c.UInt32(field) ?? 0 },
        "hostID" => map with { HostId = c.UInt32(field) ?? 0 },
        "size" => map with { Size = c.UInt32(field) ?? 0 },
        _ => Unknown(ref c, field, map),
    };

    private static OciResources ResourcesMember(ref JsonCursor c, string name, string field, OciResources resources) => name switch
    {
        "memory" => resources with { Memory = Object(ref c, field, new OciMemory(), MemoryMember) },
        "pids" => resources with { Pids = Object(ref c, field, new OciPids(), PidsMember) },
        "cpu" => resources with { Cpu = Object(ref c, field, new OciCpu(), CpuMember) },
        "devices" => resources with { Devices = c.Array(field, DeviceRule) },
        _ => Unknown(ref c, field, resources),
    };

    private static OciMemory MemoryMember(ref JsonCursor c, string name, string field, OciMemory memory) => name switch
    {
        "limit" => memory with { Limit = c.Int64(field) },
        "reservation" => memory with { Reservation = c.Int64(field) },
        "swap" => memory with { Swap = c.Int64(field) },
        _ => Unknown(ref c, field, memory),
    };

    private static OciPids PidsMember(ref JsonCursor c, string name, string field, OciPids pids) => name switch
    {
        "limit" => pids with { Limit = c.Int64(field) },
        _ => Unknown(ref c, field, pids),
    };

    private static OciCpu CpuMember(ref JsonCursor c, string name, string field, OciCpu cpu) => name switch
    {
        "shares" => cpu with { Shares = c.UInt64(field) },
        "quota" => cpu with { Quota = c.Int64(field) },
        "period" => cpu with { Period = c.UInt64(field) },
        _ => Unknown(ref c, field, cpu),
    };

    private static OciDeviceRule DeviceRule(ref JsonCursor c, string path) => Object(ref c, path, new OciDeviceRule(), DeviceRuleMember) ?? new OciDeviceRule();

    private static OciDeviceRule DeviceRuleMember(ref JsonCursor c, string name, string field, OciDeviceRule rule) => name switch
    {
        "allow" => rule with { Allow = c.Bool(field) },
        "type" => rule with { Type = c.String(field) },
        "major" => rule with { Major = c.Int64(field) },
        "minor" => rule with { Minor = c.Int64(field) },
        "access" => rule with { Access = c.String(field) },
        _ => Unknown(ref c, field, rule),
    };

    private static OciSeccomp SeccompMember(ref JsonCursor c, string name, string field, OciSeccomp seccomp) => name switch
    {
        "defaultAction" => seccomp with { DefaultAction = c.String(field) },
        "defaultErrnoRet" => seccomp with { DefaultErrnoRet = c.UInt32(field) },
        "architectures" => seccomp with { Architectures = c.Array(field, JsonCursor.StringElement) },
        "syscalls" => seccomp with { Syscalls = c.Array(field, SyscallRule) },
        _ => Unknown(ref c, field, seccomp),
    };

    private static OciSyscallRule SyscallRule(ref JsonCursor c, string path) => Object(ref c, path, new OciSyscallRule(), SyscallRuleMember) ?? new OciSyscallRule();

    private static OciSyscallRule SyscallRuleMember(ref JsonCursor c, string name, string field, OciSyscallRule rule) => name switch
    {
        "names" => rule with { Names = c.Array(field, JsonCursor.StringElement) },
        "action" => rule with { Action = c.String(field) },
        "errnoRet" => rule with { ErrnoRet = c.UInt32(field) },
        "args" => rule with { Args = c.Array(field, SyscallArg) },
        _ => Unknown(ref c, field, rule),
    };

    private static OciSyscallArg SyscallArg(ref JsonCursor c, string path) => Object(ref c, path, new OciSyscallArg(), SyscallArgMember) ?? new OciSyscallArg();

    private static OciSyscallArg SyscallArgMember(ref JsonCursor c, string name, string field, OciSyscallArg arg) => name switch
    {
        "index" => arg with { Index = c.UInt32(field) },
        "value" => arg with { Value = c.UInt64(field) ?? 0 },
        "valueTwo" => arg with { ValueTwo = c.UInt64(field) ?? 0 },
        "op" => arg with { Op = c.String(field) },
        _ => Unknown(ref c, field, arg),
    };

    private static OciDevice Device(ref JsonCursor c, string path) => Object(ref c, path, new OciDevice(), DeviceMember) ?? new OciDevice();

    private static OciDevice DeviceMember(ref JsonCursor c, string name, string field, OciDevice device) => name switch
    {
        "path" => device with { Path = c.String(field) },
        "type" => device with { Type = c.String(field) },
        "major" => device with { Major = c.Int64(field) ?? 0 },
        "minor" => device with { Minor = c.Int64(field) ?? 0 },
        "fileMode" => device with { FileMode = c.UInt32(field) },
        "uid" => device with { Uid = c.UInt32(field) },
        "gid" => device with { Gid = c.UInt32(field) },
        _ => Unknown(ref c, field, device),
    };
}

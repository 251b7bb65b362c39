namespace InitOs.Jails.Oci;

/// <summary>
/// config.json → <see cref="OciSpec"/>: one small reader per object of the model, each a
/// switch over the members InitOS supports; any other member is refused by name.
/// </summary>
internal static class SpecReader
{
    public static OciSpec? Spec(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var spec = new OciSpec();
        while (c.Member(path, out var name, out var field))
        {
            spec = name switch
            {
                "ociVersion" => spec with { OciVersion = c.String(field) },
                "root" => spec with { Root = Root(ref c, field) },
                "mounts" => spec with { Mounts = c.Array(field, Mount) },
                "process" => spec with { Process = Process(ref c, field) },
                "hostname" => spec with { Hostname = c.String(field) },
                "annotations" => spec with { Annotations = c.StringMap(field) },
                "linux" => spec with { Linux = Linux(ref c, field) },
                _ => Unknown(ref c, field, spec),
            };
        }
        return spec;
    }

    private static T Unknown<T>(ref JsonCursor c, string field, T unchanged)
    {
        c.Unknown(field);
        return unchanged;
    }

    private static OciRoot? Root(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var root = new OciRoot();
        while (c.Member(path, out var name, out var field))
        {
            root = name switch
            {
                "path" => root with { Path = c.String(field) },
                "readonly" => root with { Readonly = c.Bool(field) },
                _ => Unknown(ref c, field, root),
            };
        }
        return root;
    }

    private static OciMount Mount(ref JsonCursor c, string path)
    {
        var mount = new OciMount();
        if (!c.Object(path))
        {
            return mount;
        }
        while (c.Member(path, out var name, out var field))
        {
            mount = name switch
            {
                "destination" => mount with { Destination = c.String(field) },
                "type" => mount with { Type = c.String(field) },
                "source" => mount with { Source = c.String(field) },
                "options" => mount with { Options = c.Array(field, JsonCursor.StringElement) },
                _ => Unknown(ref c, field, mount),
            };
        }
        return mount;
    }

    private static OciProcess? Process(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var process = new OciProcess();
        while (c.Member(path, out var name, out var field))
        {
            process = name switch
            {
                "terminal" => process with { Terminal = c.Bool(field) },
                "user" => process with { User = User(ref c, field) },
                "args" => process with { Args = c.Array(field, JsonCursor.StringElement) },
                "env" => process with { Env = c.Array(field, JsonCursor.StringElement) },
                "cwd" => process with { Cwd = c.String(field) },
                "capabilities" => process with { Capabilities = Capabilities(ref c, field) },
                "rlimits" => process with { Rlimits = c.Array(field, Rlimit) },
                "noNewPrivileges" => process with { NoNewPrivileges = c.Bool(field) },
                _ => Unknown(ref c, field, process),
            };
        }
        return process;
    }

    private static OciUser? User(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var user = new OciUser();
        while (c.Member(path, out var name, out var field))
        {
            user = name switch
            {
                "uid" => user with { Uid = c.UInt32(field) ?? 0 },
                "gid" => user with { Gid = c.UInt32(field) ?? 0 },
                "umask" => user with { Umask = c.UInt32(field) },
                "additionalGids" => user with { AdditionalGids = c.Array(field, JsonCursor.UInt32Element) },
                _ => Unknown(ref c, field, user),
            };
        }
        return user;
    }

    private static OciCapabilities? Capabilities(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var caps = new OciCapabilities();
        while (c.Member(path, out var name, out var field))
        {
            caps = name switch
            {
                "bounding" => caps with { Bounding = c.Array(field, JsonCursor.StringElement) },
                "effective" => caps with { Effective = c.Array(field, JsonCursor.StringElement) },
                "inheritable" => caps with { Inheritable = c.Array(field, JsonCursor.StringElement) },
                "permitted" => caps with { Permitted = c.Array(field, JsonCursor.StringElement) },
                "ambient" => caps with { Ambient = c.Array(field, JsonCursor.StringElement) },
                _ => Unknown(ref c, field, caps),
            };
        }
        return caps;
    }

    private static OciRlimit Rlimit(ref JsonCursor c, string path)
    {
        var rlimit = new OciRlimit();
        if (!c.Object(path))
        {
            return rlimit;
        }
        while (c.Member(path, out var name, out var field))
        {
            rlimit = name switch
            {
                "type" => rlimit with { Type = c.String(field) },
                "hard" => rlimit with { Hard = c.UInt64(field) ?? 0 },
                "soft" => rlimit with { Soft = c.UInt64(field) ?? 0 },
                _ => Unknown(ref c, field, rlimit),
            };
        }
        return rlimit;
    }

    private static OciLinux? Linux(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var linux = new OciLinux();
        while (c.Member(path, out var name, out var field))
        {
            linux = name switch
            {
                "namespaces" => linux with { Namespaces = c.Array(field, Namespace) },
                "uidMappings" => linux with { UidMappings = c.Array(field, IdMapping) },
                "gidMappings" => linux with { GidMappings = c.Array(field, IdMapping) },
                "maskedPaths" => linux with { MaskedPaths = c.Array(field, JsonCursor.StringElement) },
                "readonlyPaths" => linux with { ReadonlyPaths = c.Array(field, JsonCursor.StringElement) },
                "rootfsPropagation" => linux with { RootfsPropagation = c.String(field) },
                "resources" => linux with { Resources = Resources(ref c, field) },
                "seccomp" => linux with { Seccomp = Seccomp(ref c, field) },
                "sysctl" => linux with { Sysctl = c.StringMap(field) },
                "devices" => linux with { Devices = c.Array(field, Device) },
                "cgroupsPath" => linux with { CgroupsPath = c.String(field) },
                _ => Unknown(ref c, field, linux),
            };
        }
        return linux;
    }

    private static OciNamespace Namespace(ref JsonCursor c, string path)
    {
        var ns = new OciNamespace();
        if (!c.Object(path))
        {
            return ns;
        }
        while (c.Member(path, out var name, out var field))
        {
            ns = name switch
            {
                "type" => ns with { Type = c.String(field) },
                "path" => ns with { Path = c.String(field) },
                _ => Unknown(ref c, field, ns),
            };
        }
        return ns;
    }

    private static OciIdMapping IdMapping(ref JsonCursor c, string path)
    {
        var map = new OciIdMapping();
        if (!c.Object(path))
        {
            return map;
        }
        while (c.Member(path, out var name, out var field))
        {
            map = name switch
            {
                "containerID" => map with { ContainerId = c.UInt32(field) ?? 0 },
                "hostID" => map with { HostId = c.UInt32(field) ?? 0 },
                "size" => map with { Size = c.UInt32(field) ?? 0 },
                _ => Unknown(ref c, field, map),
            };
        }
        return map;
    }

    private static OciResources? Resources(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var resources = new OciResources();
        while (c.Member(path, out var name, out var field))
        {
            resources = name switch
            {
                "memory" => resources with { Memory = Memory(ref c, field) },
                "pids" => resources with { Pids = Pids(ref c, field) },
                "cpu" => resources with { Cpu = Cpu(ref c, field) },
                "devices" => resources with { Devices = c.Array(field, DeviceRule) },
                _ => Unknown(ref c, field, resources),
            };
        }
        return resources;
    }

    private static OciMemory? Memory(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var memory = new OciMemory();
        while (c.Member(path, out var name, out var field))
        {
            memory = name switch
            {
                "limit" => memory with { Limit = c.Int64(field) },
                "reservation" => memory with { Reservation = c.Int64(field) },
                "swap" => memory with { Swap = c.Int64(field) },
                _ => Unknown(ref c, field, memory),
            };
        }
        return memory;
    }

    private static OciPids? Pids(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var pids = new OciPids();
        while (c.Member(path, out var name, out var field))
        {
            pids = name switch
            {
                "limit" => pids with { Limit = c.Int64(field) },
                _ => Unknown(ref c, field, pids),
            };
        }
        return pids;
    }

    private static OciCpu? Cpu(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var cpu = new OciCpu();
        while (c.Member(path, out var name, out var field))
        {
            cpu = name switch
            {
                "shares" => cpu with { Shares = c.UInt64(field) },
                "quota" => cpu with { Quota = c.Int64(field) },
                "period" => cpu with { Period = c.UInt64(field) },
                _ => Unknown(ref c, field, cpu),
            };
        }
        return cpu;
    }

    private static OciDeviceRule DeviceRule(ref JsonCursor c, string path)
    {
        var rule = new OciDeviceRule();
        if (!c.Object(path))
        {
            return rule;
        }
        while (c.Member(path, out var name, out var field))
        {
            rule = name switch
            {
                "allow" => rule with { Allow = c.Bool(field) },
                "type" => rule with { Type = c.String(field) },
                "major" => rule with { Major = c.Int64(field) },
                "minor" => rule with { Minor = c.Int64(field) },
                "access" => rule with { Access = c.String(field) },
                _ => Unknown(ref c, field, rule),
            };
        }
        return rule;
    }

    private static OciSeccomp? Seccomp(ref JsonCursor c, string path)
    {
        if (!c.Object(path))
        {
            return null;
        }
        var seccomp = new OciSeccomp();
        while (c.Member(path, out var name, out var field))
        {
            seccomp = name switch
            {
                "defaultAction" => seccomp with { DefaultAction = c.String(field) },
                "defaultErrnoRet" => seccomp with { DefaultErrnoRet = c.UInt32(field) },
                "architectures" => seccomp with { Architectures = c.Array(field, JsonCursor.StringElement) },
                "syscalls" => seccomp with { Syscalls = c.Array(field, SyscallRule) },
                _ => Unknown(ref c, field, seccomp),
            };
        }
        return seccomp;
    }

    private static OciSyscallRule SyscallRule(ref JsonCursor c, string path)
    {
        var rule = new OciSyscallRule();
        if (!c.Object(path))
        {
            return rule;
        }
        while (c.Member(path, out var name, out var field))
        {
            rule = name switch
            {
                "names" => rule with { Names = c.Array(field, JsonCursor.StringElement) },
                "action" => rule with { Action = c.String(field) },
                "errnoRet" => rule with { ErrnoRet = c.UInt32(field) },
                _ => Unknown(ref c, field, rule),
            };
        }
        return rule;
    }

    private static OciDevice Device(ref JsonCursor c, string path)
    {
        var device = new OciDevice();
        if (!c.Object(path))
        {
            return device;
        }
        while (c.Member(path, out var name, out var field))
        {
            device = name switch
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
        return device;
    }
}

using InitOs.Init.Config;
using InitOs.Jails.Oci;
using InitOs.Jails.Seccomp;

namespace InitOs.Os;

/// <summary>What the OS's jail is made of, decided at boot.</summary>
public sealed record OsJailOptions
{
    /// <summary>The read-only lower layer: the root device's mount, or a directory under the data volume's images/.</summary>
    public required string Image { get; init; }
    public required string Init { get; init; }
    public IReadOnlyList<string> InitArguments { get; init; } = [];
    public required string Hostname { get; init; }
    /// <summary>A user namespace with a host id range of its own (mode unprivileged).</summary>
    public bool Unprivileged { get; init; }
    /// <summary>No network namespace: the OS shares the host's links ([os] network = "host").</summary>
    public bool HostNetwork { get; init; }
    /// <summary>Which start this is (1 at boot, 2 after the OS's first reboot …), given to the OS's init as INITOS_JAIL_STARTS.</summary>
    public int Start { get; init; } = 1;
    /// <summary>What bounds the OS (its cgroup's memory and pids, its tmpfs sizes); null: nothing (tests of the spec alone).</summary>
    public OsLimits? Limits { get; init; }
}

/// <summary>
/// The OCI spec of a jail that runs a whole OS: its init is the jail's PID 1 with every
/// capability but module loading, in its own pid, mount, uts, ipc, network and cgroup
/// namespaces (and a user namespace when unprivileged), with what an init expects from a
/// container — /run and /tmp as tmpfs, a cgroup2 tree of its own, devpts, a console, and
/// `container=initos` in its environment (systemd reads it).
/// </summary>
public static class OsJailSpec
{
    public const string Id = "os";

    /// <summary>The OCI defaults (runc's), less /sys/fs/cgroup which an OS's init manages.</summary>
    private static readonly string[] Masked =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    ];

    private static readonly string[] ReadOnly = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>Modules and kexec are the host's: even a privileged OS may not change the running kernel.</summary>
    private static readonly string[] DeniedSyscalls = ["init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"];

    public static OciSpec Create(OsJailOptions options)
    {
        var capabilities = Enumerable.Range(0, Jails.Planning.Capabilities.Last + 1)
            .Select(Jails.Planning.Capabilities.NameOf)
            .Where(name => name != "CAP_SYS_MODULE")
            .ToList();
        var namespaces = new List<string> { "pid", "mount", "uts", "ipc", "cgroup" };
        if (!options.HostNetwork)
        {
            namespaces.Add("network");
        }
        if (options.Unprivileged)
        {
            namespaces.Add("user");
        }
        return new OciSpec
        {
            OciVersion = "1.0.2",
            Root = new OciRoot { Path = options.Image, Readonly = false },
            Hostname = options.Hostname,
            Process = new OciProcess
            {
                Args = [options.Init, .. options.InitArguments],
                Env =
                [
                    "container=initos", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=linux",
                    $"INITOS_JAIL_STARTS={options.Start}",
                ],
                Cwd = "/",
                User = new OciUser(),
                Capabilities = new OciCapabilities { Bounding = capabilities, Effective = capabilities, Permitted = capabilities },
            },
            Mounts =
            [
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
                Mount("/dev/shm", "tmpfs", "shm", "nosuid", "nodev", "mode=1777", "size=65536k"),
                Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "nodev", "noexec"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "nodev", "noexec", "ro"),
                Mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "nodev", "noexec", "rw"),
                Mount("/run", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=755", .. Size(options.Limits?.RunSizeMiB)]),
                Mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777", .. Size(options.Limits?.TmpSizeMiB)]),
            ],
            Linux = new OciLinux
            {
                Namespaces = namespaces.Select(type => new OciNamespace { Type = type }).ToList(),
                MaskedPaths = Masked,
                ReadonlyPaths = ReadOnly,
                Seccomp = Seccomp(options.Unprivileged),
                CgroupsPath = Id,
                Resources = options.Limits is { } limits
                    ? new OciResources { Memory = new OciMemory { Limit = limits.MemoryMaxBytes }, Pids = new OciPids { Limit = limits.PidsMax } }
                    : null,
            },
        };
    }

    /// <summary>
    /// Everything allowed but changing the kernel; an unprivileged OS, which is meant to be a
    /// boundary, is refused the <see cref="EscapeRoutes"/> too (a privileged one is host root
    /// in all but name, docs/os-jail.md, and would gain nothing from them).
    /// </summary>
    private static OciSeccomp Seccomp(bool unprivileged)
    {
        var rules = new List<OciSyscallRule> { new() { Names = DeniedSyscalls, Action = "SCMP_ACT_ERRNO" } };
        if (unprivileged)
        {
            rules.Add(new() { Names = [.. EscapeRoutes.Refused], Action = "SCMP_ACT_ERRNO", ErrnoRet = EscapeRoutes.EPERM });
            rules.Add(new() { Names = [.. EscapeRoutes.Unavailable], Action = "SCMP_ACT_ERRNO", ErrnoRet = EscapeRoutes.ENOSYS });
            var newUser = new OciSyscallArg { Index = 0, Value = EscapeRoutes.CloneNewUser, ValueTwo = EscapeRoutes.CloneNewUser, Op = "SCMP_CMP_MASKED_EQ" };
            rules.Add(new() { Names = [.. EscapeRoutes.NewUserNamespace], Action = "SCMP_ACT_ERRNO", ErrnoRet = EscapeRoutes.EPERM, Args = [newUser] });
        }
        return new OciSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = rules };
    }

    private static OciMount Mount(string destination, string type, string source, params string[] options) =>
        new() { Destination = destination, Type = type, Source = source, Options = options };

    private static string[] Size(int? mib) => mib is { } size ? [$"size={size}m"] : [];
}

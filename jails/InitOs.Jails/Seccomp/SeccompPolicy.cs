namespace InitOs.Jails.Seccomp;

/// <summary>
/// What a jail's filter decides: a verdict per listed syscall number, a default for every
/// other one, and whether creating block/character device nodes is refused.
/// </summary>
public sealed record SeccompPolicy(SeccompAction Default, IReadOnlyDictionary<int, SeccompAction> Rules, bool DenyDeviceNodes)
{
    private const uint EPERM = 1;

    /// <summary>
    /// InitOS's default: an allow-list of every syscall this kernel header knows, except those
    /// that reach past the jail's namespaces (modules, kexec, keyrings, clocks, BPF, perf,
    /// I/O ports, swap, accounting, handle-based opens) — those and any syscall newer than the
    /// table get EPERM. mknod of block and character devices is refused too: a device node
    /// is a way to the host's disks whatever the capabilities say.
    /// </summary>
    public static SeccompPolicy InitOsDefault()
    {
        var rules = new Dictionary<int, SeccompAction>();
        foreach (var (name, number) in SyscallTable.All)
        {
            rules[number] = Denied.Contains(name) ? SeccompAction.Errno(EPERM) : SeccompAction.Allow;
        }
        return new SeccompPolicy(SeccompAction.Errno(EPERM), rules, DenyDeviceNodes: true);
    }

    private static readonly HashSet<string> Denied = new(StringComparer.Ordinal)
    {
        "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms", "query_module",
        "kexec_load", "kexec_file_load",
        "add_key", "keyctl", "request_key",
        "settimeofday", "clock_settime", "clock_adjtime",
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie",
        "iopl", "ioperm", "swapon", "swapoff", "acct", "quotactl", "syslog", "uselib",
        "open_by_handle_at", "nfsservctl", "vhangup",
    };
}

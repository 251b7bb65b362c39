namespace InitOs.Jails.Seccomp;

/// <summary>
/// What a jail's filter decides: rules on arguments tried first, then a verdict per listed
/// syscall number, a default for every other one, and whether creating block/character device
/// nodes is refused.
/// </summary>
public sealed record SeccompPolicy(SeccompAction Default, IReadOnlyDictionary<int, SeccompAction> Rules, bool DenyDeviceNodes)
{
    public IReadOnlyList<ArgumentRule> ArgumentRules { get; init; } = [];

    /// <summary>
    /// InitOS's default: an allow-list of every syscall this kernel header knows, except the
    /// <see cref="EscapeRoutes"/> and those that reach past the jail's namespaces in other
    /// ways (clocks, I/O ports, swap, accounting, the kernel log) — those and any syscall newer
    /// than the table are refused. mknod of block and character devices is refused too: a
    /// device node is a way to the host's disks whatever the capabilities say.
    /// </summary>
    public static SeccompPolicy InitOsDefault()
    {
        var refused = SeccompAction.Errno(EscapeRoutes.EPERM);
        var rules = new Dictionary<int, SeccompAction>();
        foreach (var (name, number) in SyscallTable.All)
        {
            rules[number] = AlsoDenied.Contains(name) || EscapeRoutes.Refused.Contains(name) ? refused : SeccompAction.Allow;
        }
        foreach (var name in EscapeRoutes.Unavailable)
        {
            rules[SyscallTable.NumberOf(name)] = SeccompAction.Errno(EscapeRoutes.ENOSYS);
        }
        return new SeccompPolicy(refused, rules, DenyDeviceNodes: true) { ArgumentRules = EscapeRoutes.AsArgumentRules() };
    }

    private static readonly HashSet<string> AlsoDenied = new(StringComparer.Ordinal)
    {
        "create_module", "get_kernel_syms", "query_module",
        "settimeofday", "clock_settime", "clock_adjtime", "lookup_dcookie",
        "iopl", "ioperm", "swapon", "swapoff", "acct", "quotactl", "syslog", "uselib",
        "nfsservctl", "vhangup",
    };
}

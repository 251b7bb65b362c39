namespace InitOs.Jails.Seccomp;

/// <summary>
/// The syscalls behind known escapes from unprivileged containers, refused to every jail that
/// is meant to be a boundary (InitOS's default filter and the unprivileged OS jail): the
/// escape-relevant part of Docker's default profile. Each is a large kernel surface reachable
/// without host privileges (a new user namespace hands its creator every capability over
/// fresh kernel objects; io_uring, BPF and userfaultfd are where many recent local exploits
/// start) or a way past the jail's namespaces (modules, kexec, keyrings, handle-based opens).
/// </summary>
public static class EscapeRoutes
{
    public const uint EPERM = 1;
    public const uint ENOSYS = 38;
    public const ulong CloneNewUser = 0x10000000;

    /// <summary>Refused with EPERM, as Docker does.</summary>
    public static readonly IReadOnlyList<string> Refused =
    [
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
        "add_key", "keyctl", "request_key",
        "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at",
    ];

    /// <summary>
    /// Answered ENOSYS, as if this kernel lacked them, so that callers fall back: glibc goes
    /// from clone3 (whose flags are in memory a filter cannot read) to clone (whose flags it
    /// can); io_uring users to plain reads and writes; the new mount API to mount(2), which
    /// the jail's capabilities and mount namespace already govern.
    /// </summary>
    public static readonly IReadOnlyList<string> Unavailable =
    [
        "clone3",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    ];

    /// <summary>Refused with EPERM when their flags (argument 0) ask for a new user namespace.</summary>
    public static readonly IReadOnlyList<string> NewUserNamespace = ["clone", "unshare"];

    /// <summary>These routes as rules of a <see cref="SeccompPolicy"/>.</summary>
    public static IReadOnlyList<ArgumentRule> AsArgumentRules() =>
        NewUserNamespace.Select(name => new ArgumentRule(
            SyscallTable.NumberOf(name),
            [new ArgumentCondition(0, ArgumentComparison.MaskedEqual, CloneNewUser, CloneNewUser)],
            SeccompAction.Errno(EPERM))).ToList();
}

namespace InitOs.Jails.Seccomp;

/// <summary>A filter's verdict, as the kernel's SECCOMP_RET_* value.</summary>
public readonly record struct SeccompAction(uint Value)
{
    public static readonly SeccompAction Allow = new(0x7fff0000);
    public static readonly SeccompAction KillProcess = new(0x80000000);
    public static readonly SeccompAction KillThread = new(0x00000000);
    public static readonly SeccompAction Trap = new(0x00030000);
    public static readonly SeccompAction Log = new(0x7ffc0000);

    public static SeccompAction Errno(uint errno) => new(0x00050000 | (errno & 0xFFFF));

    /// <summary>The OCI action names <see cref="FromOci"/> knows.</summary>
    public static readonly IReadOnlyList<string> OciNames =
        ["SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO"];

    /// <summary>An OCI action name (SCMP_ACT_*); null when InitOS does not know it.</summary>
    public static SeccompAction? FromOci(string? name, uint? errnoRet, uint defaultErrno) => name switch
    {
        "SCMP_ACT_ALLOW" => Allow,
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => KillThread,
        "SCMP_ACT_KILL_PROCESS" => KillProcess,
        "SCMP_ACT_TRAP" => Trap,
        "SCMP_ACT_LOG" => Log,
        "SCMP_ACT_ERRNO" => Errno(errnoRet ?? defaultErrno),
        _ => null,
    };
}

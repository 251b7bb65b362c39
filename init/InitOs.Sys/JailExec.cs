using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>What a jail's program runs as (see native/initos_jail.c for the order it is applied in).</summary>
public sealed record JailProcessSettings
{
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public IReadOnlyList<uint> Groups { get; init; } = [];
    public int Umask { get; init; } = -1;
    public ulong Bounding { get; init; }
    public ulong Effective { get; init; }
    public ulong Permitted { get; init; }
    public ulong Inheritable { get; init; }
    public ulong Ambient { get; init; }
    public bool NoNewPrivileges { get; init; }
    public IReadOnlyList<(int Resource, ulong Soft, ulong Hard)> Rlimits { get; init; } = [];
    /// <summary>Classic BPF, 8 bytes per instruction; empty: no filter.</summary>
    public byte[] Seccomp { get; init; } = [];
    public string Cwd { get; init; } = "/";
    public int LastCapability { get; init; } = 40;
    /// <summary>An open executable to run instead of the path (a host binary, e.g. the toolbox's); -1: the path.</summary>
    public int ExecutableFd { get; init; } = -1;
    /// <summary>Keep the caller's session (a jail's init that already made one for its console).</summary>
    public bool KeepSession { get; init; }
    /// <summary>fds 3…3+n-1 stay open across exec (runc's --preserve-fds); all others above 2 close.</summary>
    public int PreservedFds { get; init; }
    /// <summary>A terminal (a pty slave fd) to put on 0, 1 and 2 as the controlling terminal; -1: the caller's stdio.</summary>
    public int StdioFd { get; init; } = -1;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct JailProcessNative
{
    public uint Uid;
    public uint Gid;
    public uint GroupCount;
    public uint* Groups;
    public int Umask;
    public ulong Bounding, Effective, Permitted, Inheritable, Ambient;
    public int NoNewPrivs;
    public uint RlimitCount;
    public RlimitNative* Rlimits;
    public uint FilterLength;
    public byte* Filter;
    public byte* Cwd;
    public int LastCapability;
    public int ExecFd;
    public int KeepSession;
    public int PreservedFds;
    public int StdioFd;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RlimitNative
{
    public int Resource;
    public ulong Soft;
    public ulong Hard;
}

/// <summary>A failure in a child before exec: which step, and errno.</summary>
public readonly record struct PreExecFailure(string Step, Errno Error)
{
    private static readonly string[] Steps =
    [
        "", "signals", "setsid", "setrlimit", "drop bounding set", "keep capabilities", "setgroups", "setgid",
        "setuid", "capset", "raise ambient capabilities", "no_new_privs", "seccomp", "chdir",
        "working directory unreachable", "close fds", "exec", "wait for the host", "arrange fds", "become root of the user namespace", "join the jail's namespaces",
        "make the cgroup namespace", "join the jail's cgroup",
    ];

    internal static PreExecFailure? From(int stage, int error) =>
        stage == 0 ? null : new PreExecFailure(stage < Steps.Length ? Steps[stage] : $"step {stage}", (Errno)error);

    public override string ToString() => $"{Step}: {SysException.Describe(Error)}";
}

public static class JailExec
{
    /// <summary>fork + exec of a jail's program with <paramref name="settings"/>; the failure (if any) before exec.</summary>
    public static unsafe (int Pid, PreExecFailure? Failure) Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, JailProcessSettings settings)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        return WithNativeSettings(settings, (JailProcessNative* process, out int stage, out int error) =>
            Interop.Native.JailSpawn(path, nativeArgv.Pointer, nativeEnv.Pointer, process, out stage, out error));
    }

    /// <summary>
    /// Execs the jail's program in place of the calling process (the jail's init handing PID 1 of
    /// the jail to the OS's init). Returns only when that failed: which step, and why.
    /// </summary>
    public static unsafe PreExecFailure Become(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, JailProcessSettings settings)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        var (_, failure) = WithNativeSettings(settings, (JailProcessNative* process, out int stage, out int error) =>
        {
            Interop.Native.JailBecome(path, nativeArgv.Pointer, nativeEnv.Pointer, process, out stage, out error);
            return 0;
        });
        return failure ?? new PreExecFailure("exec", Errno.None);
    }

    /// <summary>
    /// A process inside a running jail: joins its cgroup (by writing to <paramref name="cgroupProcsFd"/>,
    /// -1 for none) and <paramref name="namespaceFds"/> (user first, and then
    /// <paramref name="firstIsUserNamespace"/>: it becomes that namespace's root before it forks), forks
    /// into the pid namespace and execs with <paramref name="settings"/>. Pid is a helper outside the
    /// pid namespace that exits with the program's status (<paramref name="detach"/>: at once, leaving
    /// the program to the nearest subreaper); ProgramPid is the program's, as this namespace sees it.
    /// </summary>
    public static unsafe (int Pid, int ProgramPid, PreExecFailure? Failure) Enter(int cgroupProcsFd, IReadOnlyList<int> namespaceFds, bool firstIsUserNamespace, string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, JailProcessSettings settings, bool detach = false)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        var fds = namespaceFds.ToArray();
        int programPid = 0;
        var (pid, failure) = WithNativeSettings(settings, (JailProcessNative* process, out int stage, out int error) =>
        {
            fixed (int* fdPointer = fds)
            {
                return Interop.Native.JailEnter(cgroupProcsFd, fdPointer, fds.Length, firstIsUserNamespace ? 1 : 0, path, nativeArgv.Pointer, nativeEnv.Pointer, process, detach ? 1 : 0, out programPid, out stage, out error);
            }
        });
        return (pid, programPid, failure);
    }

    private unsafe delegate int NativeStart(JailProcessNative* process, out int stage, out int error);

    /// <summary>Pins the settings' arrays for the native struct, starts, and turns the result into a pid or an exception.</summary>
    private static unsafe (int Pid, PreExecFailure? Failure) WithNativeSettings(JailProcessSettings settings, NativeStart start)
    {
        var groups = settings.Groups.ToArray();
        var rlimits = settings.Rlimits.Select(r => new RlimitNative { Resource = r.Resource, Soft = r.Soft, Hard = r.Hard }).ToArray();
        var cwd = System.Text.Encoding.UTF8.GetBytes(settings.Cwd + "\0");
        fixed (uint* groupsPointer = groups)
        fixed (RlimitNative* rlimitsPointer = rlimits)
        fixed (byte* filter = settings.Seccomp)
        fixed (byte* cwdPointer = cwd)
        {
            var native = Native(settings, groupsPointer, (uint)groups.Length, rlimitsPointer, (uint)rlimits.Length, filter, cwdPointer);
            int pid = start(&native, out int stage, out int error);
            if (pid < 0)
            {
                throw new SysException("fork", (Errno)(-pid));
            }
            return (pid, PreExecFailure.From(stage, error));
        }
    }

    private static unsafe JailProcessNative Native(JailProcessSettings settings, uint* groups, uint groupCount, RlimitNative* rlimits, uint rlimitCount, byte* filter, byte* cwd) => new()
    {
        Uid = settings.Uid,
        Gid = settings.Gid,
        GroupCount = groupCount,
        Groups = groups,
        Umask = settings.Umask,
        Bounding = settings.Bounding,
        Effective = settings.Effective,
        Permitted = settings.Permitted,
        Inheritable = settings.Inheritable,
        Ambient = settings.Ambient,
        NoNewPrivs = settings.NoNewPrivileges ? 1 : 0,
        RlimitCount = rlimitCount,
        Rlimits = rlimits,
        FilterLength = (uint)(settings.Seccomp.Length / 8),
        Filter = filter,
        Cwd = cwd,
        LastCapability = settings.LastCapability,
        ExecFd = settings.ExecutableFd,
        KeepSession = settings.KeepSession ? 1 : 0,
        PreservedFds = settings.PreservedFds,
        StdioFd = settings.StdioFd,
    };

    /// <summary>
    /// clone(2) into <paramref name="cloneFlags"/> namespaces; the child waits for a byte on
    /// <paramref name="goFd"/>, then execs <paramref name="executableFd"/> with <paramref name="fds"/> at 3, 4, ….
    /// Call <see cref="ClonedChild.Result"/> after sending "go" to learn whether exec happened.
    /// </summary>
    /// <param name="joinFds">Namespace fds the child joins (setns) right after the clone, before anything else.</param>
    public static unsafe ClonedChild CloneExec(ulong cloneFlags, int executableFd, IReadOnlyList<string> argv, IReadOnlyList<string> env, IReadOnlyList<int> fds, int goFd, int deathSignal = 0, IReadOnlyList<int>? joinFds = null)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        var fdArray = fds.ToArray();
        var joinArray = (joinFds ?? []).ToArray();
        fixed (int* fdPointer = fdArray)
        fixed (int* joinPointer = joinArray)
        {
            int pid = Interop.Native.CloneExec(cloneFlags, executableFd, nativeArgv.Pointer, nativeEnv.Pointer, fdPointer, fdArray.Length, goFd, deathSignal, joinPointer, joinArray.Length, out int reportFd);
            if (pid < 0)
            {
                throw new SysException("clone", (Errno)(-pid));
            }
            return new ClonedChild(pid, reportFd);
        }
    }
}

public sealed class ClonedChild(int pid, int reportFd)
{
    public int Pid { get; } = pid;

    /// <summary>Blocks until the child has exec'd (null) or failed before exec.</summary>
    public PreExecFailure? Result()
    {
        Interop.Native.CloneExecResult(reportFd, out int stage, out int error);
        return PreExecFailure.From(stage, error);
    }
}

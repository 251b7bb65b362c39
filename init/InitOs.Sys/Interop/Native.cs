using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

/// <summary>The C helper in native/initos_native.c (statically linked into the NativeAOT binary).</summary>
internal static partial class Native
{
    private const string Name = "initos_native";

    [LibraryImport(Name, EntryPoint = "initos_catch_signal", SetLastError = true)]
    internal static partial int CatchSignal(int signal, int wakeWriteFd);

    [LibraryImport(Name, EntryPoint = "initos_unblock_caught_signals")]
    internal static partial int UnblockCaughtSignals();

    [LibraryImport(Name, EntryPoint = "initos_take_signals")]
    internal static partial ulong TakeSignals();

    [LibraryImport(Name, EntryPoint = "initos_jail_spawn", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int JailSpawn(string path, nint argv, nint envp, JailProcessNative* process, out int stage, out int error);

    [LibraryImport(Name, EntryPoint = "initos_jail_become", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int JailBecome(string path, nint argv, nint envp, JailProcessNative* process, out int stage, out int error);

    [LibraryImport(Name, EntryPoint = "initos_idmapped_mount", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int IdmappedMount(string source, int usernsFd, string target, out int step);

    [LibraryImport(Name, EntryPoint = "initos_jail_exec", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int JailEnter(int cgroupProcsFd, int* namespaceFds, int count, int firstIsUserNamespace, string path, nint argv, nint envp, JailProcessNative* process, int detach, out int programPid, out int stage, out int error);

    [LibraryImport(Name, EntryPoint = "initos_clone_exec")]
    internal static unsafe partial int CloneExec(ulong cloneFlags, int execFd, nint argv, nint envp, int* fds, int fdCount, int goFd, int deathSignal, int* joinFds, int joinCount, out int reportFd);

    [LibraryImport(Name, EntryPoint = "initos_clone_exec_result")]
    internal static partial void CloneExecResult(int reportFd, out int stage, out int error);

    [LibraryImport(Name, EntryPoint = "initos_send_fd", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SendFd(string socketPath, int fd, string name);

    [LibraryImport(Name, EntryPoint = "initos_spawn", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Spawn(string path, nint argv, nint envp, int searchPath, int flags, int deathSignal, int stdioFd, out int execErrno);
}

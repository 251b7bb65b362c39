using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

// posix_spawn keeps managed code out of the child entirely: glibc does the
// clone/exec, so no .NET code ever runs between fork and exec.
internal static partial class Libc
{
    // glibc x86-64: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80; we allocate more.
    internal const int SpawnAttrSize = 512;
    internal const int SpawnFileActionsSize = 256;

    internal const short PosixSpawnSetSigMask = 0x08;
    internal const short PosixSpawnSetSigDef = 0x04;
    internal const short PosixSpawnSetSid = 0x80;

    [LibraryImport(Name, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawn(out int pid, string path, nint fileActions, nint attr, nint argv, nint envp);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_init")]
    internal static partial int PosixSpawnAttrInit(nint attr);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int PosixSpawnAttrDestroy(nint attr);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int PosixSpawnAttrSetFlags(nint attr, short flags);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int PosixSpawnAttrSetSigMask(nint attr, nint sigset);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int PosixSpawnAttrSetSigDefault(nint attr, nint sigset);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_init")]
    internal static partial int PosixSpawnFileActionsInit(nint actions);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static partial int PosixSpawnFileActionsDestroy(nint actions);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawnFileActionsAddOpen(nint actions, int fd, string path, int flags, int mode);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static partial int PosixSpawnFileActionsAddDup2(nint actions, int fd, int newFd);

    [LibraryImport(Name, EntryPoint = "sigemptyset")]
    internal static partial int SigEmptySet(nint set);

    [LibraryImport(Name, EntryPoint = "sigfillset")]
    internal static partial int SigFillSet(nint set);
}

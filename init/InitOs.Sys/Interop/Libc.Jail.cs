using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenAt(int dirFd, string path, int flags, int mode);

    [LibraryImport(Name, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MkdirAt(int dirFd, string path, int mode);

    [LibraryImport(Name, EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MknodAt(int dirFd, string path, uint mode, ulong dev);

    [LibraryImport(Name, EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SymlinkAt(string target, int dirFd, string linkPath);

    [LibraryImport(Name, EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int FchownAt(int dirFd, string path, uint uid, uint gid, int flags);

    [LibraryImport(Name, EntryPoint = "sethostname", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetHostname(string name, nuint length);

    [LibraryImport(Name, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long SyscallPivotRoot(long number, string newRoot, string putOld);
}

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "_exit")]
    internal static partial void ExitNow(int status);

    [LibraryImport(Name, EntryPoint = "sendfile", SetLastError = true)]
    internal static partial long Sendfile(int outFd, int inFd, nint offset, nuint count);

    [LibraryImport(Name, EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mkfifo(string path, int mode);
}

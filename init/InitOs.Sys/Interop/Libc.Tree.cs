using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

/// <summary>What unpacking a tree needs beyond the jail's *at calls: links, modes, times, extended attributes, openat2.</summary>
internal static partial class Libc
{
    /// <summary>struct open_how (linux/openat2.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>struct timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct mount_attr (linux/mount.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MountAttr
    {
        public ulong Set;
        public ulong Clear;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long SyscallOpenTree(long number, int dirFd, string path, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long SyscallMoveMount(long number, int fromDirFd, string fromPath, int toDirFd, string toPath, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial long SyscallMountSetattr(long number, int dirFd, string path, uint flags, MountAttr* attr, nuint size);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial long SyscallOpenAt2(long number, int dirFd, string path, OpenHow* how, nuint size);

    [LibraryImport(Name, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int LinkAt(int oldDirFd, string oldPath, int newDirFd, string newPath, int flags);

    [LibraryImport(Name, EntryPoint = "fchmodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int FchmodAt(int dirFd, string path, uint mode, int flags);

    [LibraryImport(Name, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int UtimensAt(int dirFd, string path, TimeSpec* times, int flags);

    [LibraryImport(Name, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport(Name, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint Lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport(Name, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint Llistxattr(string path, byte* list, nuint size);
}

using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    internal const int AfNetlink = 16;
    internal const int SockRaw = 3;
    internal const int SockCloexec = 0x80000;
    internal const int SolNetlink = 270;

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOpt(int fd, int level, int option, void* value, uint length);

    [LibraryImport(Name, EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);
}

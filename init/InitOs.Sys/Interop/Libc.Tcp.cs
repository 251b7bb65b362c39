using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    internal const int AfInet6 = 10;
    internal const int SockStream = 1;
    internal const int SockNonblock = 0x800;
    internal const int IpprotoIpv6 = 41;
    internal const int Ipv6V6Only = 26;

    [LibraryImport(Name, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(int fd, int backlog);

    internal const int SoError = 4;
    internal const short PollIn = 0x1, PollOut = 0x4;

    [LibraryImport(Name, EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int Connect(int fd, byte* address, uint length);

    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOpt(int fd, int level, int option, void* value, uint* length);

    [LibraryImport(Name, EntryPoint = "accept4", SetLastError = true)]
    internal static unsafe partial int Accept4(int fd, byte* address, uint* addressLength, int flags);
}

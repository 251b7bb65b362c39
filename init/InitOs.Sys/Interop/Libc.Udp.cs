using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    internal const int AfInet = 2;
    internal const int SockDgram = 2;
    internal const int SolSocket = 1;
    internal const int SoReuseAddr = 2, SoBroadcast = 6, SoRcvBuf = 8, SoBindToDevice = 25;

    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(int fd, byte* address, uint length);

    [LibraryImport(Name, EntryPoint = "sendto", SetLastError = true)]
    internal static unsafe partial nint SendTo(int fd, byte* buffer, nuint length, int flags, byte* address, uint addressLength);
}

using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    /// <summary>struct statfs on 64-bit Linux is 120 bytes; the caller passes a buffer at least that big.</summary>
    internal const int StatfsSize = 120;

    [LibraryImport(Name, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statfs(string path, byte* statfsBuffer);
}

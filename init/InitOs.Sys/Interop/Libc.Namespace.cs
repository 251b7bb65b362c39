using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    internal const int CloneNewNet = 0x40000000;

    /// <summary>Moves the calling thread (not the process) into the namespace behind fd.</summary>
    [LibraryImport(Name, EntryPoint = "setns", SetLastError = true)]
    internal static partial int Setns(int fd, int nsType);
}

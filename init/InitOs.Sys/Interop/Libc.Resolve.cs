using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    /// <summary>struct addrinfo (x86-64 glibc layout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct AddrInfo
    {
        public int Flags;
        public int Family;
        public int SocketType;
        public int Protocol;
        public uint AddressLength;
        public byte* Address;
        public byte* CanonicalName;
        public AddrInfo* Next;
    }

    [LibraryImport(Name, EntryPoint = "getaddrinfo", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetAddrInfo(string node, string? service, AddrInfo* hints, AddrInfo** result);

    [LibraryImport(Name, EntryPoint = "freeaddrinfo")]
    internal static unsafe partial void FreeAddrInfo(AddrInfo* list);

    [LibraryImport(Name, EntryPoint = "gai_strerror")]
    internal static partial nint GaiStrerror(int code);
}

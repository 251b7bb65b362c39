namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    /// <summary>AF_ALG: the kernel's crypto API as sockets (linux/if_alg.h).</summary>
    internal const int AfAlg = 38;
    internal const int SockSeqpacket = 5;
    internal const int MsgMore = 0x8000;
    /// <summary>sizeof(struct sockaddr_alg): family (2), type (14), feat (4), mask (4), name (64).</summary>
    internal const int SockaddrAlgSize = 88;
    internal const int SockaddrAlgNameOffset = 24;
}

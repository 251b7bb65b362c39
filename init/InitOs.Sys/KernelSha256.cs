using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// SHA-256 by the kernel (AF_ALG, algif_hash): the bytes are sent to an operation socket with
/// MSG_MORE, and the digest read back after a last empty send. The kernel picks its fastest
/// driver (sha256_ni, sha256_avx2 … from sha256_ssse3). Null from <see cref="TryOpen"/> when
/// the kernel has no AF_ALG or no sha256 (then the managed code does it).
/// </summary>
public sealed unsafe class KernelSha256 : IDigest
{
    private int _op;

    private KernelSha256(int op) => _op = op;

    public string Engine => "the kernel's (AF_ALG)";

    public static KernelSha256? TryOpen()
    {
        int tfm = Libc.Socket(Libc.AfAlg, Libc.SockSeqpacket | Libc.SockCloexec, 0);
        if (tfm < 0)
        {
            return null;
        }
        try
        {
            var address = stackalloc byte[Libc.SockaddrAlgSize];
            new Span<byte>(address, Libc.SockaddrAlgSize).Clear();
            *(ushort*)address = Libc.AfAlg;
            "hash"u8.CopyTo(new Span<byte>(address + 2, 14));
            "sha256"u8.CopyTo(new Span<byte>(address + Libc.SockaddrAlgNameOffset, 64));
            if (Libc.Bind(tfm, address, Libc.SockaddrAlgSize) < 0)
            {
                return null;
            }
            int op = Libc.Accept4(tfm, null, null, Libc.SockCloexec);
            return op < 0 ? null : new KernelSha256(op);
        }
        finally
        {
            Files.Close(tfm);
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            nuint done = 0;
            while (done < (nuint)data.Length)
            {
                var n = Libc.Send(Op, start + done, (nuint)data.Length - done, Libc.MsgMore);
                if (n < 0)
                {
                    throw SysException.FromLastError("AF_ALG sha256: send");
                }
                done += (nuint)n;
            }
        }
    }

    public byte[] Finish()
    {
        var digest = new byte[32];
        fixed (byte* output = digest)
        {
            if (Libc.Send(Op, null, 0, 0) < 0)
            {
                throw SysException.FromLastError("AF_ALG sha256: final send");
            }
            if (Libc.Recv(Op, output, 32, 0) != 32)
            {
                throw SysException.FromLastError("AF_ALG sha256: recv");
            }
        }
        return digest;
    }

    private int Op => _op >= 0 ? _op : throw new ObjectDisposedException(nameof(KernelSha256));

    public void Dispose()
    {
        if (_op >= 0)
        {
            Files.Close(_op);
            _op = -1;
        }
    }
}

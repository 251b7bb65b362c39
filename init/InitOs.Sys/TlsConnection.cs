using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// What a TLS server must prove: a chain to one of these CA certificates (PEM) naming the
/// address connected to, or to be the one certificate whose DER bytes have this SHA-256 (the
/// pin is the identity; its name is not checked).
/// </summary>
public sealed record TlsTrust(string? CaPem, byte[]? PinnedSha256)
{
    public static TlsTrust Ca(string pem) => new(pem, null);

    public static TlsTrust Pin(string hex) => new(null, Convert.FromHexString(hex.Replace(":", "", StringComparison.Ordinal)));
}

/// <summary>
/// TLS 1.2 or 1.3 as a client over a <see cref="TcpConnection"/>, through OpenSSL's libssl
/// (loaded on first use; SslStream would bring .NET's whole certificate stack into the box,
/// 3.2 MB). Only the given trust: no system roots are loaded. The server's certificate is
/// checked during the handshake (the chain and the IP address) or right after it (the pin),
/// before the caller sends a byte. Waits are bounded by the timeout; the socket stays
/// non-blocking and OpenSSL's "want read/write" is answered with poll.
/// </summary>
public sealed class TlsConnection : IDisposable
{
    private readonly TcpConnection _tcp;
    private readonly TimeSpan _timeout;
    private nint _context;
    private nint _ssl;

    private TlsConnection(TcpConnection tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _timeout = timeout;
    }

    /// <exception cref="SysException">The handshake failed or the certificate is not trusted (the message says which and why), or a wait timed out.</exception>
    /// <exception cref="DllNotFoundException">libssl.so.3 or libcrypto.so.3 is not on this machine.</exception>
    public static TlsConnection Open(TcpConnection tcp, string address, TlsTrust trust, TimeSpan timeout)
    {
        var tls = new TlsConnection(tcp, timeout);
        try
        {
            tls.Handshake(address, trust);
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    private void Handshake(string address, TlsTrust trust)
    {
        Libssl.ErrClearError();
        _context = Libssl.CtxNew(Libssl.TlsClientMethod());
        if (_context == 0)
        {
            throw Failure("SSL_CTX_new");
        }
        if (Libssl.CtxCtrl(_context, Libssl.CtrlSetMinProtoVersion, Libssl.Tls12Version, 0) != 1)
        {
            throw Failure("SSL_CTX_set_min_proto_version(TLS 1.2)");
        }
        if (trust.CaPem is { } pem)
        {
            AddCertificates(pem);
            Libssl.CtxSetVerify(_context, Libssl.VerifyPeer, 0);
        }
        else if (trust.PinnedSha256 is null)
        {
            throw new ArgumentException("a TLS trust needs CA certificates or a pin", nameof(trust));
        }
        else
        {
            Libssl.CtxSetVerify(_context, Libssl.VerifyNone, 0);
        }
        _ssl = Libssl.New(_context);
        if (_ssl == 0 || Libssl.SetFd(_ssl, _tcp.Descriptor) != 1)
        {
            throw Failure("SSL_new");
        }
        if (trust.CaPem is not null && Libssl.VerifyParamSetIp(Libssl.Get0Param(_ssl), address) != 1)
        {
            throw new SysException($"TLS: {address} is not an IP address to check a certificate against");
        }
        while (true)
        {
            int result = Libssl.Connect(_ssl);
            if (result == 1)
            {
                break;
            }
            if (!WaitFor(result, "TLS handshake"))
            {
                long verify = Libssl.GetVerifyResult(_ssl);
                throw verify != 0
                    ? new SysException($"TLS: the server's certificate is not trusted: {Marshal.PtrToStringUTF8(Libssl.VerifyCertErrorString(verify))}")
                    : Failure("TLS handshake");
            }
        }
        if (trust.PinnedSha256 is { } pin && !PeerMatches(pin))
        {
            throw new SysException("TLS: the server's certificate is not the pinned one");
        }
    }

    /// <summary>Up to the span's length; 0 when the server closed the TLS session.</summary>
    public unsafe int Receive(Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                Libssl.ErrClearError();
                int n = Libssl.Read(_ssl, pointer, buffer.Length);
                if (n > 0)
                {
                    return n;
                }
                int error = Libssl.GetError(_ssl, n);
                if (error == Libssl.ErrorZeroReturn)
                {
                    return 0;
                }
                if (!WaitFor(n, "TLS receive"))
                {
                    throw Failure("TLS receive");
                }
            }
        }
    }

    public unsafe void Send(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* pointer = bytes)
        {
            int sent = 0;
            while (sent < bytes.Length)
            {
                Libssl.ErrClearError();
                int n = Libssl.Write(_ssl, pointer + sent, bytes.Length - sent);
                if (n > 0)
                {
                    sent += n;
                }
                else if (!WaitFor(n, "TLS send"))
                {
                    throw Failure("TLS send");
                }
            }
        }
    }

    /// <summary>After a call that returned <paramref name="result"/>: waits when OpenSSL wants the socket, false on a real error.</summary>
    private bool WaitFor(int result, string what)
    {
        switch (Libssl.GetError(_ssl, result))
        {
            case Libssl.ErrorWantRead:
                _tcp.Wait(Libc.PollIn, _timeout, what);
                return true;
            case Libssl.ErrorWantWrite:
                _tcp.Wait(Libc.PollOut, _timeout, what);
                return true;
            default:
                return false;
        }
    }

    private unsafe void AddCertificates(string pem)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(pem);
        var store = Libssl.CtxGetCertStore(_context);
        int added = 0;
        fixed (byte* pointer = bytes)
        {
            nint bio = Libssl.BioNewMemBuf(pointer, bytes.Length);
            try
            {
                nint certificate;
                while ((certificate = Libssl.PemReadBioX509(bio, 0, 0, 0)) != 0)
                {
                    int ok = Libssl.StoreAddCert(store, certificate);
                    Libssl.X509Free(certificate);
                    added += ok == 1 ? 1 : 0;
                }
            }
            finally
            {
                _ = Libssl.BioFree(bio);
            }
        }
        // Reading stops with "no start line" at the end of the text; that is not an error.
        Libssl.ErrClearError();
        if (added == 0)
        {
            throw new SysException("TLS: no CA certificate could be read from the PEM text");
        }
    }

    private unsafe bool PeerMatches(byte[] pin)
    {
        nint peer = Libssl.Get1PeerCertificate(_ssl);
        if (peer == 0)
        {
            return false;
        }
        try
        {
            int length = Libssl.X509ToDer(peer, null);
            var der = new byte[Math.Max(length, 0)];
            fixed (byte* start = der)
            {
                byte* cursor = start;
                if (length <= 0 || Libssl.X509ToDer(peer, &cursor) != length)
                {
                    return false;
                }
            }
            return SameBytes(Sha256.Hash(der), pin);
        }
        finally
        {
            Libssl.X509Free(peer);
        }
    }

    /// <summary>Equal, compared in a time that does not depend on where they differ.</summary>
    private static bool SameBytes(byte[] a, byte[] b)
    {
        int difference = a.Length ^ b.Length;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            difference |= a[i] ^ b[i];
        }
        return difference == 0;
    }

    /// <summary>OpenSSL's own reason for the last failure, as a SysException.</summary>
    private static unsafe SysException Failure(string what)
    {
        ulong code = Libssl.ErrGetError();
        if (code == 0)
        {
            return new SysException($"{what}: the connection ended");
        }
        Span<byte> text = stackalloc byte[256];
        fixed (byte* pointer = text)
        {
            Libssl.ErrErrorStringN(code, pointer, (nuint)text.Length);
            return new SysException($"{what}: {Marshal.PtrToStringUTF8((nint)pointer)}");
        }
    }

    public void Dispose()
    {
        if (_ssl != 0)
        {
            // A close_notify if the session is up; a session that failed has nothing to say.
            _ = Libssl.Shutdown(_ssl);
            Libssl.Free(_ssl);
            _ssl = 0;
        }
        if (_context != 0)
        {
            Libssl.CtxFree(_context);
            _context = 0;
        }
        _tcp.Dispose();
    }
}

using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

/// <summary>
/// OpenSSL 3 (libssl.so.3, libcrypto.so.3), loaded on first use: only an initramfs whose config
/// names an HTTPS registry carries them (TlsConnection). The few calls a TLS client needs; the
/// macros of ssl.h are spelled out as the ctrl calls they expand to.
/// </summary>
internal static partial class Libssl
{
    internal const string Ssl = "libssl.so.3";
    internal const string Crypto = "libcrypto.so.3";

    internal const int VerifyNone = 0;
    internal const int VerifyPeer = 1;
    internal const int ErrorWantRead = 2;
    internal const int ErrorWantWrite = 3;
    internal const int ErrorSyscall = 5;
    internal const int ErrorZeroReturn = 6;
    /// <summary>SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) is SSL_CTX_ctrl(ctx, 123, 0x0303, NULL).</summary>
    internal const int CtrlSetMinProtoVersion = 123;
    internal const int Tls12Version = 0x0303;

    [LibraryImport(Ssl, EntryPoint = "TLS_client_method")]
    internal static partial nint TlsClientMethod();

    [LibraryImport(Ssl, EntryPoint = "SSL_CTX_new")]
    internal static partial nint CtxNew(nint method);

    [LibraryImport(Ssl, EntryPoint = "SSL_CTX_free")]
    internal static partial void CtxFree(nint context);

    [LibraryImport(Ssl, EntryPoint = "SSL_CTX_ctrl")]
    internal static partial long CtxCtrl(nint context, int command, long value, nint argument);

    [LibraryImport(Ssl, EntryPoint = "SSL_CTX_set_verify")]
    internal static partial void CtxSetVerify(nint context, int mode, nint callback);

    [LibraryImport(Ssl, EntryPoint = "SSL_CTX_get_cert_store")]
    internal static partial nint CtxGetCertStore(nint context);

    [LibraryImport(Ssl, EntryPoint = "SSL_new")]
    internal static partial nint New(nint context);

    [LibraryImport(Ssl, EntryPoint = "SSL_free")]
    internal static partial void Free(nint ssl);

    [LibraryImport(Ssl, EntryPoint = "SSL_set_fd")]
    internal static partial int SetFd(nint ssl, int fd);

    [LibraryImport(Ssl, EntryPoint = "SSL_get0_param")]
    internal static partial nint Get0Param(nint ssl);

    [LibraryImport(Ssl, EntryPoint = "SSL_connect")]
    internal static partial int Connect(nint ssl);

    [LibraryImport(Ssl, EntryPoint = "SSL_read")]
    internal static unsafe partial int Read(nint ssl, byte* buffer, int count);

    [LibraryImport(Ssl, EntryPoint = "SSL_write")]
    internal static unsafe partial int Write(nint ssl, byte* buffer, int count);

    [LibraryImport(Ssl, EntryPoint = "SSL_get_error")]
    internal static partial int GetError(nint ssl, int result);

    [LibraryImport(Ssl, EntryPoint = "SSL_shutdown")]
    internal static partial int Shutdown(nint ssl);

    [LibraryImport(Ssl, EntryPoint = "SSL_get_verify_result")]
    internal static partial long GetVerifyResult(nint ssl);

    [LibraryImport(Ssl, EntryPoint = "SSL_get1_peer_certificate")]
    internal static partial nint Get1PeerCertificate(nint ssl);

    [LibraryImport(Crypto, EntryPoint = "X509_VERIFY_PARAM_set1_ip_asc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int VerifyParamSetIp(nint parameters, string address);

    [LibraryImport(Crypto, EntryPoint = "X509_verify_cert_error_string")]
    internal static partial nint VerifyCertErrorString(long code);

    [LibraryImport(Crypto, EntryPoint = "BIO_new_mem_buf")]
    internal static unsafe partial nint BioNewMemBuf(byte* data, int length);

    [LibraryImport(Crypto, EntryPoint = "BIO_free")]
    internal static partial int BioFree(nint bio);

    [LibraryImport(Crypto, EntryPoint = "PEM_read_bio_X509")]
    internal static partial nint PemReadBioX509(nint bio, nint into, nint passwordCallback, nint userData);

    [LibraryImport(Crypto, EntryPoint = "X509_STORE_add_cert")]
    internal static partial int StoreAddCert(nint store, nint certificate);

    [LibraryImport(Crypto, EntryPoint = "X509_free")]
    internal static partial void X509Free(nint certificate);

    [LibraryImport(Crypto, EntryPoint = "i2d_X509")]
    internal static unsafe partial int X509ToDer(nint certificate, byte** output);

    [LibraryImport(Crypto, EntryPoint = "ERR_get_error")]
    internal static partial ulong ErrGetError();

    [LibraryImport(Crypto, EntryPoint = "ERR_clear_error")]
    internal static partial void ErrClearError();

    [LibraryImport(Crypto, EntryPoint = "ERR_error_string_n")]
    internal static unsafe partial void ErrErrorStringN(ulong error, byte* buffer, nuint length);
}

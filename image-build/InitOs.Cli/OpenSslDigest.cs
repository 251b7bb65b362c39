using System.Security.Cryptography;
using InitOs.Sys;

namespace InitOs.Cli;

/// <summary>
/// The workstation's SHA-256: .NET's, which calls OpenSSL (SHA-NI, AVX2) on Linux. The tool
/// reads bundles with the sidecar's own reader and sets this as its engine; the initramfs has no
/// OpenSSL and uses the kernel's instead (InitOs.Sys.Digests).
/// </summary>
internal sealed class OpenSslDigest : IDigest
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public string Engine => "OpenSSL's (.NET)";

    public void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

    public byte[] Finish() => _hash.GetHashAndReset();

    public void Dispose() => _hash.Dispose();
}

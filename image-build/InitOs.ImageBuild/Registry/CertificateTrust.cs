using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using InitOs.Sidecar.Registry;

namespace InitOs.ImageBuild.Registry;

/// <summary>
/// Whether a registry's certificate is trusted by the options' own trust, on the workstation:
/// one pinned certificate (the SHA-256 of its DER bytes; the pin is the identity, so the name is
/// not checked), or a chain to one of the CA certificates (PEM) with the registry's name or IP
/// address in it. Without either, the system's roots. (The machine's rule is the same, through
/// OpenSSL directly: InitOs.Sys's TlsConnection.)
/// </summary>
public static class CertificateTrust
{
    public static bool HasOwnTrust(RegistryOptions options) => options.CaPem is not null || options.PinnedSha256 is not null;

    public static bool Check(RegistryOptions options, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }
        using var presented = new X509Certificate2(certificate);
        if (options.PinnedSha256 is { } pin)
        {
            return Convert.ToHexStringLower(SHA256.HashData(presented.RawData)) == NormalizePin(pin);
        }
        if (options.CaPem is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(options.CaPem);
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        return custom.Build(presented);
    }

    /// <summary>A pin as hex, lower case, without the colons people copy from openssl's output.</summary>
    public static string NormalizePin(string pin) => pin.ToLowerInvariant().Replace(":", "", StringComparison.Ordinal);
}

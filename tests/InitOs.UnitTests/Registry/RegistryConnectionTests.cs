using InitOs.Sidecar.Registry;
using InitOs.TestKit;

namespace InitOs.UnitTests.Registry;

/// <summary>
/// How the client reaches a registry: HTTPS checked against a CA bundle or a pinned
/// certificate (the system's roots refuse a test CA), Basic authentication, and plain HTTP only
/// where allowed. Against Debian's docker-registry with TLS and an htpasswd file.
/// </summary>
public sealed class RegistryConnectionTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-registry-tls-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Https_is_trusted_through_a_ca_bundle_or_a_pin_and_basic_authentication_is_answered()
    {
        var (ca, certificate, key) = Certificates();
        var htpasswd = _dir.File("htpasswd");
        var hash = Tool.Run("python3", "-c", "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))").Trim();
        File.WriteAllText(htpasswd, $"admin:{hash}\n");
        using var registry = new LocalRegistry(certificate, key, htpasswd);
        var manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"u8.ToArray();

        // A CA bundle and the right credentials: the push and the fetch work.
        using (var client = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { CaBundle = ca, Credentials = "admin:s3cret" }))
        {
            client.PushManifest("initos/probe", "t1", manifest, "application/vnd.oci.image.index.v1+json");
            Assert.Equal(manifest, client.GetManifest(ImageReference.Parse($"{registry.Address}/initos/probe:t1")).Bytes);
        }

        // The certificate pinned instead of a CA.
        var pin = Tool.Run("sh", "-c", $"openssl x509 -in {certificate} -outform DER | sha256sum").Split(' ')[0];
        using (var pinned = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { PinnedSha256 = pin, Credentials = "admin:s3cret" }))
        {
            Assert.Equal(manifest, pinned.GetManifest(ImageReference.Parse($"{registry.Address}/initos/probe:t1")).Bytes);
        }

        var reference = ImageReference.Parse($"{registry.Address}/initos/probe:t1");
        string Refusal(RegistryOptions options)
        {
            using var client = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, options);
            return Assert.Throws<RegistryException>(() => client.GetManifest(reference)).Message;
        }
        Assert.Contains("the registry's certificate is not trusted", Refusal(new RegistryOptions { Credentials = "admin:s3cret" }), StringComparison.Ordinal);
        Assert.Contains("the registry's certificate is not trusted", Refusal(new RegistryOptions { PinnedSha256 = new string('0', 64), Credentials = "admin:s3cret" }), StringComparison.Ordinal);
        Assert.Contains("asks for a user and password (HTTP 401); none given", Refusal(new RegistryOptions { CaBundle = ca }), StringComparison.Ordinal);
        Assert.Contains("HTTP 401", Refusal(new RegistryOptions { CaBundle = ca, Credentials = "admin:wrong" }), StringComparison.Ordinal);
    }

    /// <summary>A test CA and a certificate for 127.0.0.1 signed by it (openssl, P-256).</summary>
    private (string Ca, string Certificate, string Key) Certificates()
    {
        string F(string name) => _dir.File(name);
        Tool.Run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", F("ca.key"), "-out", F("ca.pem"), "-days", "2", "-subj", "/CN=initos-test-ca");
        Tool.Run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", F("server.key"), "-out", F("server.csr"), "-subj", "/CN=127.0.0.1");
        File.WriteAllText(F("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        Tool.Run("openssl", "x509", "-req", "-in", F("server.csr"), "-CA", F("ca.pem"), "-CAkey", F("ca.key"), "-CAcreateserial", "-out", F("server.pem"), "-days", "2", "-extfile", F("san.ext"));
        return (F("ca.pem"), F("server.pem"), F("server.key"));
    }
}

using InitOs.Sidecar.Registry;
using InitOs.TestKit;

namespace InitOs.UnitTests.Registry;

/// <summary>
/// How the client reaches a registry: HTTPS checked against a CA bundle or a pinned
/// certificate (the system's roots refuse a test CA), Basic authentication, and plain HTTP only
/// where allowed; the machine's own HTTPS (OpenSSL through the interop layer) with the same
/// rules. Against Debian's docker-registry with TLS and an htpasswd file.
/// </summary>
public sealed class RegistryConnectionTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-registry-tls-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Https_is_trusted_through_a_ca_bundle_or_a_pin_and_basic_authentication_is_answered()
    {
        var certificates = new TestCertificates(_dir.Path);
        var ca = certificates.Ca;
        var (certificate, key) = certificates.Server("server", "127.0.0.1");
        var htpasswd = _dir.File("htpasswd");
        var hash = Tool.Run("python3", "-c", "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))").Trim();
        File.WriteAllText(htpasswd, $"admin:{hash}\n");
        using var registry = new LocalRegistry(certificate, key, htpasswd);
        var manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"u8.ToArray();

        // A CA bundle and the right credentials: the push and the fetch work.
        using (var client = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { CaPem = File.ReadAllText(ca), Credentials = "admin:s3cret" }))
        {
            client.PushManifest("initos/probe", "t1", manifest, "application/vnd.oci.image.index.v1+json");
            Assert.Equal(manifest, client.GetManifest(ImageReference.Parse($"{registry.Address}/initos/probe:t1")).Bytes);
        }

        // The certificate pinned instead of a CA.
        var pin = TestCertificates.Pin(certificate);
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
        Assert.Contains("asks for a user and password (HTTP 401); none given", Refusal(new RegistryOptions { CaPem = File.ReadAllText(ca) }), StringComparison.Ordinal);
        Assert.Contains("HTTP 401", Refusal(new RegistryOptions { CaPem = File.ReadAllText(ca), Credentials = "admin:wrong" }), StringComparison.Ordinal);
    }

    [Fact]
    public void The_machine_speaks_https_through_openssl_trusting_only_the_configs_ca_or_pin()
    {
        var certificates = new TestCertificates(_dir.Path);
        var (certificate, key) = certificates.Server("server", "127.0.0.1");
        using var registry = new LocalRegistry(certificate, key);
        var manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"u8.ToArray();
        var ca = File.ReadAllText(certificates.Ca);
        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { CaPem = ca }))
        {
            workstation.PushManifest("initos/machine", "t1", manifest, "application/vnd.oci.image.index.v1+json");
        }
        var reference = ImageReference.Parse($"{registry.Address}/initos/machine:t1");
        RegistryClient Machine(RegistryOptions options, string? address = null) => new(address ?? registry.Address, options, new MachineHttpTransport(options, TimeSpan.FromSeconds(10)));
        string Refusal(RegistryOptions options)
        {
            using var client = Machine(options);
            return Assert.Throws<RegistryException>(() => client.GetManifest(reference)).Message;
        }

        using (var byCa = Machine(new RegistryOptions { CaPem = ca }))
        {
            Assert.Equal(manifest, byCa.GetManifest(reference).Bytes);
        }
        using (var byPin = Machine(new RegistryOptions { PinnedSha256 = TestCertificates.Pin(certificate) }))
        {
            Assert.Equal(manifest, byPin.GetManifest(reference).Bytes);
        }

        // Another CA; the right CA but a certificate for another address; a wrong pin; no trust at all.
        var stranger = new TestCertificates(Directory.CreateDirectory(_dir.File("stranger")).FullName);
        Assert.Equal($"{registry.Address}: the server's certificate is not trusted: unable to get local issuer certificate", Refusal(new RegistryOptions { CaPem = File.ReadAllText(stranger.Ca) }));
        Assert.Equal($"{registry.Address}: the server's certificate is not the pinned one", Refusal(new RegistryOptions { PinnedSha256 = new string('0', 64) }));
        Assert.Contains("HTTPS from the machine needs [upgrade] registry_ca or registry_pin", Refusal(new RegistryOptions()), StringComparison.Ordinal);
        var (elsewhere, elsewhereKey) = certificates.Server("elsewhere", "10.9.9.9");
        using var misnamed = new LocalRegistry(elsewhere, elsewhereKey);
        using var client = Machine(new RegistryOptions { CaPem = ca }, misnamed.Address);
        var mismatch = Assert.Throws<RegistryException>(() => client.GetManifest(ImageReference.Parse($"{misnamed.Address}/initos/machine:t1"))).Message;
        Assert.Contains("the server's certificate is not trusted: IP address mismatch", mismatch, StringComparison.Ordinal);
    }
}

using InitOs.ImageBuild.Bundle;
using InitOs.Sidecar.Registry;
using InitOs.TestKit;

namespace InitOs.UnitTests.Registry;

/// <summary>
/// Token authentication (the Distribution token protocol) against Debian's docker-registry
/// configured for it, with a token service of the test's own: the workstation pushes with a
/// user's token, a machine pulls anonymously (a public repository), wrong credentials are
/// refused by name, and a realm the client may not send credentials to gets nothing.
/// </summary>
public sealed class RegistryTokenTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-registry-token-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_push_with_a_users_token_an_anonymous_pull_and_refusals_by_name()
    {
        using var tokens = new TokenServer(_dir.Path, "ops:s3cret");
        using var registry = new LocalRegistry(token: (tokens.Realm, tokens.CertificateFile, TokenServer.Service, TokenServer.Issuer));
        var key = _dir.File("release");
        Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release", "-f", key);
        var image = _dir.File("os.img");
        File.WriteAllBytes(image, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20));
        var bundle = _dir.File("bundle.tar");
        BundleWriter.Write(new BundleSpec("1.0", "token-test", "1.0", null, [new("os", image)], key), bundle);
        var reference = ImageReference.Parse($"{registry.Address}/initos/public:1.0");
        var plain = new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] };

        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, plain with { Credentials = "ops:s3cret" }))
        {
            BundlePush.Push(bundle, reference, workstation);
        }
        Assert.Contains(tokens.Requests, r => r.StartsWith("ops repository:initos/public:", StringComparison.Ordinal) && r.Contains("push", StringComparison.Ordinal));

        // The machine, without credentials: an anonymous token that may pull.
        using (var machine = new RegistryClient(registry.Address, plain, new MachineHttpTransport(plain, TimeSpan.FromSeconds(10))))
        {
            BundlePull.Pull(reference, machine, new BlobCache(_dir.File("cache")), new InitOs.Sidecar.Upgrades.TrustPolicy([File.ReadAllText(key + ".pub").Trim()], "token-test", "1.0"), _dir.File("pulled.tar"));
        }
        Assert.Equal(File.ReadAllBytes(bundle), File.ReadAllBytes(_dir.File("pulled.tar")));
        Assert.Contains(tokens.Requests, r => r == "- repository:initos/public:pull");

        // Anonymous tokens do not push; wrong credentials get no token.
        using (var anonymous = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, plain))
        {
            var refused = Assert.Throws<RegistryException>(() => BundlePush.Push(bundle, reference with { Tag = "1.1" }, anonymous));
            Assert.Contains("401", refused.Message, StringComparison.Ordinal);
        }
        using (var wrong = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, plain with { Credentials = "ops:guess" }))
        {
            var refused = Assert.Throws<RegistryException>(() => wrong.GetManifest(reference));
            Assert.Contains($"the token service {tokens.Realm} answered HTTP 401", refused.Message, StringComparison.Ordinal);
        }

        // A realm over plain HTTP to a host not allowed it: nothing is sent there.
        int before = tokens.Requests.Count;
        using (var elsewhere = new LocalRegistry(token: (tokens.Realm.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), tokens.CertificateFile, TokenServer.Service, TokenServer.Issuer)))
        using (var client = InitOs.ImageBuild.Registry.HttpClientTransport.Client(elsewhere.Address, new RegistryOptions { PlainHttpHosts = ["127.0.0.1"], Credentials = "ops:s3cret" }))
        {
            var refused = Assert.Throws<RegistryException>(() => client.GetManifest(ImageReference.Parse($"{elsewhere.Address}/initos/public:1.0")));
            Assert.Contains("is not an https:// URL (nor plain HTTP to a host allowed it); nothing was sent there", refused.Message, StringComparison.Ordinal);
        }
        Assert.Equal(before, tokens.Requests.Count);
    }
}

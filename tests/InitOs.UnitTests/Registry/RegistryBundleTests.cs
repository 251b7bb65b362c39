using InitOs.ImageBuild.Bundle;
using InitOs.Sidecar.Registry;
using InitOs.Sidecar.Upgrades;
using InitOs.TestKit;

namespace InitOs.UnitTests.Registry;

/// <summary>
/// Bundles through a real registry (Debian's docker-registry, Distribution 2.8, on
/// 127.0.0.1): push, pull byte for byte, a second version that changes one image fetches only
/// that image, a download cut mid-blob resumes with Range, a blob changed in the registry's
/// storage is refused with nothing kept, the signature is found through the referrers tag
/// fallback (2.8 has no referrers API) or, with the API added in front of it, through the API,
/// and errors name the registry, the reference and the status.
/// </summary>
public sealed class RegistryBundleTests : IDisposable
{
    private const int ImageBytes = 3 << 20;
    private readonly TempDirectory _dir = new("initos-registry-test-");
    private readonly LocalRegistry _registry = new();

    public void Dispose()
    {
        _registry.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void A_pushed_bundle_is_pulled_byte_for_byte_and_a_second_version_fetches_only_what_changed()
    {
        var key = Key("release");
        var os = RandomFile("os-1.img", 1);
        var tools = RandomFile("tools.img", 2);
        var v1 = Bundle("1.0", key, ("os", os), ("tools", tools));
        var reference = ImageReference.Parse($"{_registry.Address}/initos/bundle");

        using var client = Client();
        var pushed = BundlePush.Push(v1, reference, client);
        Assert.Equal($"{_registry.Address}/initos/bundle:1.0", pushed.Reference.ToString());
        Assert.False(pushed.ReferrersApi);
        Assert.Equal(5, pushed.BlobsSent); // the description, two images, the empty config, the signature

        var cache = new BlobCache(_dir.File("cache"));
        var pulled = _dir.File("pulled-1.0.tar");
        var first = BundlePull.Pull(pushed.Reference, client, cache, Trusting(key), pulled);
        Assert.Equal(File.ReadAllBytes(v1), File.ReadAllBytes(pulled));
        Assert.Equal("1.0", first.Bundle.Description.Version);
        Assert.InRange(first.BytesFetched, 2L * ImageBytes, (2L * ImageBytes) + 65536);

        // 2.0 changes the os image only: its push sends that image (and the small documents), its pull fetches only that.
        var v2 = Bundle("2.0", key, ("os", RandomFile("os-2.img", 3)), ("tools", tools));
        var pushed2 = BundlePush.Push(v2, reference, client);
        Assert.True(pushed2.BlobsSkipped >= 2, $"{pushed2.BlobsSkipped} blobs skipped (the tools image and the empty config were there)");
        var second = BundlePull.Pull(pushed2.Reference, client, cache, Trusting(key), _dir.File("pulled-2.0"));
        Assert.InRange(second.BytesFetched, ImageBytes, ImageBytes + 65536);
        Assert.True(second.CacheHits >= 1, $"{second.CacheHits} blobs from the cache (the tools image was there)");
        Console.WriteLine($"registry: 1.0 fetched {first.BytesFetched} bytes; 2.0 (one of two images changed) fetched {second.BytesFetched} bytes, {second.CacheHits} blobs from the cache");

        // By digest too, and the tag-fallback index lists the signature.
        var byDigest = BundlePull.Pull(reference.WithDigest(pushed.ManifestDigest), client, new BlobCache(_dir.File("cache-2")), Trusting(key), _dir.File("by-digest.tar"));
        Assert.Equal(pushed.ManifestDigest, byDigest.Bundle.ManifestDigest);
        var referrers = client.Referrers("initos/bundle", pushed.ManifestDigest);
        Assert.Equal(BundleDocuments.SignatureArtifactType, Assert.Single(referrers).ArtifactType);
    }

    [Fact]
    public void A_download_cut_mid_blob_resumes_where_it_stopped()
    {
        var key = Key("release");
        var bundle = Bundle("1.0", key, ("os", RandomFile("os.img", 4)));
        var reference = ImageReference.Parse($"{_registry.Address}/initos/cut:1.0");
        using (var client = Client())
        {
            BundlePush.Push(bundle, reference, client);
        }
        using var proxy = new CuttingProxy(_registry.Port, cutAfter: ImageBytes / 2, cuts: 2);
        var viaProxy = reference with { Registry = $"127.0.0.1:{proxy.Port}" };
        using var flaky = InitOs.ImageBuild.Registry.HttpClientTransport.Client(viaProxy.Registry, new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] });
        var report = BundlePull.Pull(viaProxy, flaky, new BlobCache(_dir.File("cache")), Trusting(key), _dir.File("pulled.tar"));
        Assert.Equal(File.ReadAllBytes(bundle), File.ReadAllBytes(_dir.File("pulled.tar")));
        Assert.Equal(2, proxy.Cuts);
        Assert.InRange(report.BytesFetched, ImageBytes, ImageBytes + 65536);
        Console.WriteLine($"registry: a {ImageBytes}-byte image cut {proxy.Cuts} times, resumed: {report.BytesFetched} bytes fetched in all");
    }

    [Fact]
    public void The_machines_own_http_client_pulls_the_same_bytes_and_resumes_a_cut_download()
    {
        var key = Key("release");
        var bundle = Bundle("1.0", key, ("os", RandomFile("os.img", 6)));
        var reference = ImageReference.Parse($"{_registry.Address}/initos/machine:1.0");
        using (var client = Client())
        {
            BundlePush.Push(bundle, reference, client);
        }
        using var proxy = new CuttingProxy(_registry.Port, cutAfter: ImageBytes / 3, cuts: 1);
        var viaProxy = reference with { Registry = $"127.0.0.1:{proxy.Port}" };
        var options = new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] };
        using var machine = new RegistryClient(viaProxy.Registry, options, new MachineHttpTransport(options, TimeSpan.FromSeconds(10)));
        var report = BundlePull.Pull(viaProxy, machine, new BlobCache(_dir.File("cache")), Trusting(key), _dir.File("pulled.tar"));
        Assert.Equal(File.ReadAllBytes(bundle), File.ReadAllBytes(_dir.File("pulled.tar")));
        Assert.Equal(1, proxy.Cuts);
        Assert.InRange(report.BytesFetched, ImageBytes, ImageBytes + 65536);

        using var https = new RegistryClient(_registry.Address, new RegistryOptions(), new MachineHttpTransport(new RegistryOptions(), TimeSpan.FromSeconds(10)));
        var refused = Assert.Throws<RegistryException>(() => https.GetManifest(reference));
        Assert.Contains("HTTPS from the machine needs [upgrade] registry_ca or registry_pin in the signed config", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blob_changed_in_the_registry_or_an_unknown_signer_is_refused_and_nothing_is_kept()
    {
        var key = Key("release");
        var image = RandomFile("os.img", 5);
        var bundle = Bundle("1.0", key, ("os", image));
        var reference = ImageReference.Parse($"{_registry.Address}/initos/tamper:1.0");
        using var client = Client();
        BundlePush.Push(bundle, reference, client);

        // Signed by a key the machine does not trust: refused before the image is fetched.
        var cache = new BlobCache(_dir.File("cache"));
        var stranger = Assert.Throws<BundleException>(() => BundlePull.Pull(reference, client, cache, Trusting(Key("stranger")), _dir.File("a.tar")));
        Assert.Contains("signed by a key that is not in the keyring", stranger.Message, StringComparison.Ordinal);
        Assert.True(client.BytesFetched < 65536, $"{client.BytesFetched} bytes fetched for a bundle nobody trusted");
        Assert.False(File.Exists(_dir.File("a.tar")) || File.Exists(_dir.File("a.tar.partial")));

        // One byte of the image changed where the registry keeps it.
        var digest = OciDigest(image);
        var stored = _registry.BlobFile(digest);
        var bytes = File.ReadAllBytes(stored);
        bytes[12345] ^= 1;
        File.WriteAllBytes(stored, bytes);
        var tampered = Assert.Throws<RegistryException>(() => BundlePull.Pull(reference, client, cache, Trusting(key), _dir.File("b.tar")));
        Assert.Contains($"blob {digest} from initos/tamper: its bytes have digest sha256:", tampered.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(cache.PathOf(digest)) || File.Exists(cache.PathOf(digest) + ".partial"));
        Assert.False(File.Exists(_dir.File("b.tar")) || File.Exists(_dir.File("b.tar.partial")));

        var missing = Assert.Throws<RegistryException>(() => BundlePull.Pull(reference.WithTag("9.9"), client, cache, Trusting(key), _dir.File("c.tar")));
        Assert.Contains($"{_registry.Address}: manifest {_registry.Address}/initos/tamper:9.9: HTTP 404", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_signed_again_with_a_new_key_is_pulled_with_whichever_key_the_machine_trusts()
    {
        var image = RandomFile("os.img", 7);
        var old = Bundle("1.0", Key("old"), ("os", image));
        var rotated = _dir.File("bundle-1.0-new.tar");
        BundleWriter.Write(new BundleSpec("1.0", "initos", "0", null, [new("os", image)], Key("new")), rotated);
        var reference = ImageReference.Parse($"{_registry.Address}/initos/rotate:1.0");
        using var client = Client();
        var first = BundlePush.Push(old, reference, client);
        var second = BundlePush.Push(rotated, reference, client);
        Assert.Equal(first.ManifestDigest, second.ManifestDigest);
        Assert.Equal(2, client.Referrers("initos/rotate", first.ManifestDigest).Count);

        var byOld = BundlePull.Pull(reference, client, new BlobCache(_dir.File("cache")), Trusting(Key("old")), _dir.File("old.tar"));
        Assert.Equal(File.ReadAllBytes(old), File.ReadAllBytes(_dir.File("old.tar")));
        Assert.Equal(File.ReadAllText(Key("old") + ".pub").Trim(), byOld.Bundle.Key);
        var byNew = BundlePull.Pull(reference, client, new BlobCache(_dir.File("cache")), Trusting(Key("new")), _dir.File("new.tar"));
        Assert.Equal(File.ReadAllBytes(rotated), File.ReadAllBytes(_dir.File("new.tar")));
        Assert.Equal(File.ReadAllText(Key("new") + ".pub").Trim(), byNew.Bundle.Key);
    }

    [Fact]
    public void References_are_parsed_strictly()
    {
        var reference = ImageReference.Parse("registry.example:5000/team/initos-bundle:2.0");
        Assert.Equal(("registry.example:5000", "team/initos-bundle", "2.0", "registry.example"), (reference.Registry, reference.Repository, reference.Tag, reference.Host));
        Assert.Contains("is not a registry host", Assert.Throws<ArgumentException>(() => ImageReference.Parse("team/bundle:1")).Message, StringComparison.Ordinal);
        Assert.Contains("is not a repository name", Assert.Throws<ArgumentException>(() => ImageReference.Parse("r.example/Team/bundle")).Message, StringComparison.Ordinal);
        Assert.Contains("is not sha256:", Assert.Throws<ArgumentException>(() => ImageReference.Parse("r.example/bundle@sha256:abc")).Message, StringComparison.Ordinal);
        Assert.True(RegistryOptions.IsLoopback("127.0.0.1") && RegistryOptions.IsLoopback("::1") && !RegistryOptions.IsLoopback("10.0.2.2"));
    }

    [Fact]
    public void With_the_referrers_api_the_registry_keeps_the_link_no_fallback_tag_is_written_and_the_pull_finds_the_signature_through_it()
    {
        var key = Key("release");
        var bundle = Bundle("1.0", key, ("os", RandomFile("os-api.img", 7)));
        using var shim = new ReferrersShim(_registry.Port);
        var options = new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] };
        var reference = ImageReference.Parse($"{shim.Address}/initos/api:1.0");
        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(shim.Address, options))
        {
            var pushed = BundlePush.Push(bundle, reference, workstation);
            Assert.True(pushed.ReferrersApi);
            using var direct = Client();
            var fallback = ImageReference.Parse($"{_registry.Address}/initos/api:{RegistryClient.FallbackTag(pushed.ManifestDigest)}");
            Assert.Equal((int?)404, Assert.Throws<RegistryException>(() => direct.GetManifest(fallback)).Status);
        }
        // The machine's client: the signature comes from the API's answer, the bundle byte for byte.
        using var machine = new RegistryClient(shim.Address, options, new MachineHttpTransport(options, TimeSpan.FromSeconds(10)));
        BundlePull.Pull(reference, machine, new BlobCache(_dir.File("api-cache")), Trusting(key), _dir.File("api-pulled.tar"));
        Assert.Equal(File.ReadAllBytes(bundle), File.ReadAllBytes(_dir.File("api-pulled.tar")));
        Assert.True(shim.ReferrersAnswered > 0);
    }

    private RegistryClient Client() => InitOs.ImageBuild.Registry.HttpClientTransport.Client(_registry.Address, new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] });

    private static TrustPolicy Trusting(string key) => new([File.ReadAllText(key + ".pub").Trim()], "initos", null);

    private string Key(string name)
    {
        var path = _dir.File(name);
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    private string RandomFile(string name, int seed)
    {
        var bytes = new byte[ImageBytes];
        new Random(seed).NextBytes(bytes);
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Bundle(string version, string key, params (string Name, string File)[] images)
    {
        var output = _dir.File($"bundle-{version}.tar");
        BundleWriter.Write(new BundleSpec(version, "initos", "0", null, [.. images.Select(i => new KeyValuePair<string, string>(i.Name, i.File))], key), output);
        return output;
    }

    private static string OciDigest(string file) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
}

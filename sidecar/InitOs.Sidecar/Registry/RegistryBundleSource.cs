using InitOs.Sidecar.Upgrades;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// A bundle in a registry, served to <see cref="BundleReader"/> as the files of its layout in
/// the reader's order. The manifest is fetched by tag or digest, its signature found among its
/// referrers (the API, or the sha256-HEX tag the fallback uses); the small documents are held
/// in memory, and an artifact's blob is downloaded (into the cache) only when the reader asks
/// for it, which is after the signature, key, machine class and floor were checked: a bundle
/// signed by nobody the machine trusts costs a few kilobytes, not an image.
/// </summary>
public sealed class RegistryBundleSource : IBundleSource
{
    private readonly RegistryClient _client;
    private readonly ImageReference _reference;
    private readonly BlobCache _cache;
    private readonly Dictionary<string, byte[]> _documents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Descriptor> _pendingSmall = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _artifacts = new(StringComparer.Ordinal);
    private readonly List<Stream> _open = [];

    /// <param name="trustedKeys">The keyring: of several signatures (a bundle signed again with a new key, for rotation) the newest one by a key of it is used; null or none matching: the newest.</param>
    public RegistryBundleSource(RegistryClient client, ImageReference reference, BlobCache cache, IReadOnlyList<string>? trustedKeys = null)
    {
        _client = client;
        _reference = reference;
        _cache = cache;
        var (manifest, _, digest) = client.GetManifest(reference);
        ManifestDigest = digest;
        var (config, layers, version) = ReadBundleManifest(manifest);
        var signatures = client.Referrers(reference.Repository, digest).Where(r => r.ArtifactType == BundleDocuments.SignatureArtifactType).ToList();
        if (signatures.Count == 0)
        {
            throw new RegistryException($"{reference} ({digest}): no signature among its referrers (the referrers API and the tag {RegistryClient.FallbackTag(digest)})");
        }
        var subject = new Descriptor(BundleDocuments.ManifestType, digest, manifest.Length);
        var (signature, signatureManifest, signatureBlob) = ChooseSignature(signatures, subject, manifest, trustedKeys);

        _documents["oci-layout"] = BundleDocuments.LayoutFile;
        _documents["index.json"] = BundleDocuments.Index(
            subject with { ArtifactType = BundleDocuments.BundleArtifactType, RefName = version },
            new Descriptor(BundleDocuments.ManifestType, signature.Digest, signatureManifest.Length) { ArtifactType = BundleDocuments.SignatureArtifactType });
        _documents[Blob(digest)] = manifest;
        _documents[Blob(signature.Digest)] = signatureManifest;
        _documents[Blob(BundleDocuments.DigestOf(BundleDocuments.EmptyBlob))] = BundleDocuments.EmptyBlob;
        _pendingSmall[Blob(signatureBlob.Digest)] = signatureBlob;
        _pendingSmall[Blob(config.Digest)] = config;
        foreach (var layer in layers)
        {
            _artifacts[Blob(layer.Digest)] = layer.Size;
        }
        Version = version;
    }

    public string ManifestDigest { get; }

    /// <summary>
    /// The registry lists signatures in the order they were pushed. Newest first, the first
    /// whose signature verifies over the manifest with a key of the keyring; when none does
    /// (or there is no keyring), the newest, for the reader to refuse by name or accept.
    /// A signature is a few hundred bytes, so looking costs little; the reader checks the
    /// chosen one again, as for any bundle.
    /// </summary>
    private ((string Digest, long Size, string? ArtifactType) Entry, byte[] Manifest, Descriptor Blob) ChooseSignature(
        List<(string Digest, long Size, string? ArtifactType)> signatures, Descriptor subject, byte[] manifest, IReadOnlyList<string>? trustedKeys)
    {
        ((string, long, string?), byte[], Descriptor)? newest = null;
        foreach (var candidate in Enumerable.Reverse(signatures))
        {
            var (bytes, _, _) = _client.GetManifest(_reference.WithDigest(candidate.Digest));
            var blob = BundleDocuments.ReadSignatureManifest(bytes, subject);
            newest ??= (candidate, bytes, blob);
            if (trustedKeys is not { Count: > 0 } || blob.Size > 64 * 1024)
            {
                break;
            }
            var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(_cache.Fetch(_client, _reference.Repository, blob.Digest, blob.Size)));
            try
            {
                InitOs.Init.Trust.SshSignature.Verify(text, manifest, BundleDocuments.SignatureNamespace, trustedKeys, "a signature in the registry");
                return (candidate, bytes, blob);
            }
            catch (InitOs.Init.Trust.SignatureException)
            {
                // Another key's, or damaged: try the one before it.
            }
        }
        return newest!.Value;
    }

    public string Version { get; }

    public Stream Open(string name, long? size, long largest)
    {
        if (_documents.TryGetValue(name, out var bytes))
        {
            return new MemoryStream(bytes, writable: false);
        }
        if (_pendingSmall.TryGetValue(name, out var small))
        {
            if (small.Size > largest)
            {
                throw new BundleException($"{_reference}: {name} is {small.Size} bytes, expected at most {largest}");
            }
            return Track(File.OpenRead(_cache.Fetch(_client, _reference.Repository, small.Digest, small.Size)));
        }
        if (_artifacts.TryGetValue(name, out var artifactSize))
        {
            var digest = "sha256:" + name["blobs/sha256/".Length..];
            return Track(File.OpenRead(_cache.Fetch(_client, _reference.Repository, digest, artifactSize)));
        }
        throw new BundleException($"{_reference}: the bundle has no {name}");
    }

    public void Close()
    {
        foreach (var stream in _open)
        {
            stream.Dispose();
        }
        _open.Clear();
    }

    public void End() => Close();

    private Stream Track(Stream stream)
    {
        _open.Add(stream);
        return stream;
    }

    private (Descriptor Config, IReadOnlyList<Descriptor> Layers, string Version) ReadBundleManifest(byte[] manifest)
    {
        try
        {
            return BundleDocuments.ReadManifest(manifest);
        }
        catch (BundleException e)
        {
            throw new RegistryException($"{_reference}: not an InitOS bundle ({e.Message})");
        }
    }

    private static string Blob(string digest) => "blobs/sha256/" + digest[7..];
}

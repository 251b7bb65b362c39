using System.Text;
using InitOs.Init.Trust;

namespace InitOs.Sidecar.Upgrades;

/// <summary>What a machine accepts: the keyring and machine class of its signed config, and its anti-rollback floor.</summary>
/// <param name="Keys">ssh-ed25519 public key lines; a bundle signed by any one of them is accepted (several, for rotation).</param>
/// <param name="Compatible">The machine class; null accepts any (the workstation's `bundle verify` without --compatible).</param>
/// <param name="MinimumVersion">Bundles below it are refused; null: no floor.</param>
public sealed record TrustPolicy(IReadOnlyList<string> Keys, string? Compatible, string? MinimumVersion)
{
    /// <summary>Accept whichever key signed (still checking the signature with it): `initos bundle inspect` only, to show who signed. A machine never sets it.</summary>
    public bool AnySigner { get; init; }
}

/// <summary>An artifact of a bundle: a UKI or an OS image, by name.</summary>
public sealed record BundleArtifact(string Kind, string Name, Descriptor Blob)
{
    public const string Uki = "uki";
    public const string OsImage = "os-image";
}

/// <summary>Where a bundle's artifacts go as they arrive. Nothing begun is kept unless committed, and only a proven blob is committed.</summary>
public interface IArtifactSink
{
    /// <summary>The manifest and description are proven: the artifacts to come, before any of their bytes. A refusal here (a BundleException) writes nothing.</summary>
    void Plan(BundleDescription description, IReadOnlyList<BundleArtifact> artifacts)
    {
    }

    Stream Begin(BundleArtifact artifact);

    /// <summary>The bytes written since <see cref="Begin"/> match the signed digest.</summary>
    void Commit(BundleArtifact artifact);

    /// <summary>The bundle was refused: drop whatever was begun or committed.</summary>
    void Abort();
}

/// <summary>A bundle that passed every check: its description, the key that signed it, its artifacts.</summary>
public sealed record VerifiedBundle(BundleDescription Description, string Key, string ManifestDigest, IReadOnlyList<BundleArtifact> Artifacts)
{
    /// <summary>The signed parts, kept beside what was staged so it can be proven again at each use.</summary>
    public BundleProof? Proof { get; init; }
}

/// <summary>
/// Reads a bundle front to back and checks each part before the next is trusted: the layout
/// and index, the signature manifest, the signature, the manifest (against the signature and a
/// key of the keyring), the description (machine class, version floor), the index's exact bytes,
/// then each artifact, streamed through SHA-256 into the sink and committed only when its
/// digest is the signed one. Any failure aborts the sink and throws a BundleException that
/// says which part and which check.
/// </summary>
public static class BundleReader
{
    private const long SmallDocument = 64 * 1024;

    public static VerifiedBundle Read(IBundleSource source, TrustPolicy policy, IArtifactSink sink, Action<string>? progress = null)
    {
        try
        {
            return ReadChecked(source, policy, sink, progress ?? (_ => { }));
        }
        catch
        {
            sink.Abort();
            throw;
        }
    }

    private static VerifiedBundle ReadChecked(IBundleSource source, TrustPolicy policy, IArtifactSink sink, Action<string> progress)
    {
        if (!Small(source, "oci-layout", null).AsSpan().SequenceEqual(BundleDocuments.LayoutFile))
        {
            throw new BundleException("oci-layout: not {\"imageLayoutVersion\":\"1.0.0\"}");
        }
        var index = Small(source, "index.json", null);
        var (manifest, signatureManifest) = BundleDocuments.ReadIndex(index);
        var subject = new Descriptor(BundleDocuments.ManifestType, manifest.Digest, manifest.Size);
        var signature = BundleDocuments.ReadSignatureManifest(Blob(source, signatureManifest, "the signature manifest"), subject);
        var empty = new Descriptor(BundleDocuments.EmptyType, BundleDocuments.DigestOf(BundleDocuments.EmptyBlob), BundleDocuments.EmptyBlob.Length);
        Blob(source, empty, "the signature manifest's empty config");
        var signatureText = Encoding.UTF8.GetString(Blob(source, signature, "the signature"));
        var manifestBytes = Blob(source, manifest, "the manifest");
        var (key, config, layers, version) = BundleProof.CheckSignedManifest(manifestBytes, signatureText, policy);
        progress($"signature: good, by {InitOs.Init.Config.PublicKeys.Fingerprint(key)}");
        var descriptionBytes = Blob(source, config, "the bundle description");
        var description = BundleProof.CheckDescription(descriptionBytes, version, policy);
        // Rebuilt from what was proven (the digests and sizes now matched their blobs) and constants, so no byte of it goes unchecked.
        var canonicalIndex = BundleDocuments.Index(
            subject with { ArtifactType = BundleDocuments.BundleArtifactType, RefName = version },
            new Descriptor(BundleDocuments.ManifestType, signatureManifest.Digest, signatureManifest.Size) { ArtifactType = BundleDocuments.SignatureArtifactType });
        if (!canonicalIndex.AsSpan().SequenceEqual(index))
        {
            throw new BundleException("index.json: not as `initos build bundle` writes it for this manifest (changed after signing)");
        }
        progress($"bundle {description.Version} for {description.Compatible} (anti-rollback floor {description.MinVersion})");

        var artifacts = Artifacts(layers);
        sink.Plan(description, artifacts);
        foreach (var artifact in artifacts)
        {
            var engine = Stream(source, artifact, sink);
            progress($"{artifact.Kind} {artifact.Name}: {artifact.Blob.Size} bytes, digest good (SHA-256: {engine})");
        }
        source.End();
        return new VerifiedBundle(description, key, manifest.Digest, artifacts) { Proof = new BundleProof(manifestBytes, signatureText, descriptionBytes) };
    }

    internal static void CheckPolicy(BundleDescription description, TrustPolicy policy)
    {
        UpgradeVersion version, floor;
        try
        {
            version = UpgradeVersion.Parse(description.Version, "the bundle's version");
            floor = UpgradeVersion.Parse(description.MinVersion, "the bundle's minVersion");
        }
        catch (FormatException e)
        {
            throw new BundleException(e.Message);
        }
        if (floor.CompareTo(version) > 0)
        {
            throw new BundleException($"the bundle's minVersion {floor} is above its own version {version}");
        }
        if (policy.Compatible is not null && description.Compatible != policy.Compatible)
        {
            throw new BundleException($"the bundle is for machine class \"{description.Compatible}\", this machine is \"{policy.Compatible}\"");
        }
        if (policy.MinimumVersion is not null && UpgradeVersion.Parse(policy.MinimumVersion, "the machine's version floor").CompareTo(version) > 0)
        {
            throw new BundleException($"the bundle's version {version} is below this machine's minimum {policy.MinimumVersion} (anti-rollback)");
        }
    }

    internal static List<BundleArtifact> Artifacts(IReadOnlyList<Descriptor> layers)
    {
        var artifacts = new List<BundleArtifact>();
        foreach (var layer in layers)
        {
            var kind = layer.MediaType switch
            {
                BundleDocuments.UkiType => BundleArtifact.Uki,
                BundleDocuments.OsImageType => BundleArtifact.OsImage,
                _ => throw new BundleException($"the manifest's layer {layer.Digest}: media type {layer.MediaType} is not a UKI or an OS image"),
            };
            var name = layer.Title ?? throw new BundleException($"the manifest's {kind} layer {layer.Digest} has no name (org.opencontainers.image.title)");
            if (!IsArtifactName(name) || artifacts.Any(a => a.Name == name))
            {
                throw new BundleException($"the manifest's {kind} name \"{name}\": {(IsArtifactName(name) ? "given twice" : "expected letters, digits, '.', '_', '-', at most 64")}");
            }
            artifacts.Add(new BundleArtifact(kind, name, layer));
        }
        if (artifacts.Count == 0 || artifacts.Count(a => a.Kind == BundleArtifact.Uki) > 1)
        {
            throw new BundleException($"the manifest has {artifacts.Count(a => a.Kind == BundleArtifact.Uki)} UKIs and {artifacts.Count(a => a.Kind == BundleArtifact.OsImage)} OS images (expected at most one UKI, and something)");
        }
        return artifacts;
    }

    public static bool IsArtifactName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static byte[] Small(IBundleSource source, string name, long? size)
    {
        using var stream = source.Open(name, size, SmallDocument);
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        source.Close();
        return buffer.ToArray();
    }

    /// <summary>A small blob, whole, checked against its descriptor's digest.</summary>
    private static byte[] Blob(IBundleSource source, Descriptor descriptor, string what)
    {
        if (descriptor.Size > SmallDocument)
        {
            throw new BundleException($"{what}: {descriptor.Size} bytes, more than a bundle's {what} can be");
        }
        var bytes = Small(source, "blobs/sha256/" + descriptor.Hex, descriptor.Size);
        if (BundleDocuments.DigestOf(bytes) != descriptor.Digest)
        {
            throw new BundleException($"{what}: its bytes do not match its digest {descriptor.Digest}");
        }
        return bytes;
    }

    /// <summary>One artifact streamed into the sink and committed once its digest is the signed one; returns which SHA-256 engine hashed it.</summary>
    private static string Stream(IBundleSource source, BundleArtifact artifact, IArtifactSink sink)
    {
        var input = source.Open("blobs/sha256/" + artifact.Blob.Hex, artifact.Blob.Size, artifact.Blob.Size);
        using var sha = InitOs.Sys.Digests.Sha256();
        var buffer = new byte[1 << 20];
        using (var output = sink.Begin(artifact))
        {
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                sha.Append(buffer.AsSpan(0, n));
                output.Write(buffer, 0, n);
            }
        }
        input.Dispose();
        source.Close();
        if ("sha256:" + Convert.ToHexStringLower(sha.Finish()) != artifact.Blob.Digest)
        {
            throw new BundleException($"{artifact.Kind} {artifact.Name}: its bytes do not match the signed digest {artifact.Blob.Digest}");
        }
        sink.Commit(artifact);
        return sha.Engine;
    }
}

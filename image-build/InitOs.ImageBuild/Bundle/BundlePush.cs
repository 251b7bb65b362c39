using System.Text.Json;
using InitOs.Sidecar.Registry;
using InitOs.Sidecar.Upgrades;

namespace InitOs.ImageBuild.Bundle;

/// <summary>What a push sent: the manifest's digest and reference, blobs uploaded and skipped (already there), bytes sent.</summary>
public sealed record PushReport(string ManifestDigest, ImageReference Reference, int BlobsSent, int BlobsSkipped, long BytesSent, bool ReferrersApi);

/// <summary>
/// `initos push BUNDLE REGISTRY/REPO[:TAG]`: the bundle's blobs (those the registry lacks),
/// its manifest under the tag (the bundle's version when none is given), and its signature
/// manifest by digest, as an OCI 1.1 referrer of the bundle. A registry without the referrers
/// API (no OCI-Subject in its answer; Distribution 2.8 is one) gets the fallback: an index
/// tagged sha256-HEX listing the referrers, updated, not replaced.
/// </summary>
public static class BundlePush
{
    public static PushReport Push(string bundle, ImageReference target, RegistryClient client, Action<string>? log = null)
    {
        using var files = BundleFiles.Open(bundle);
        var (manifestDescriptor, signatureDescriptor) = BundleDocuments.ReadIndex(File.ReadAllBytes(files.Member("index.json")));
        var manifest = File.ReadAllBytes(files.Blob(manifestDescriptor.Digest));
        var (config, layers, version) = BundleDocuments.ReadManifest(manifest);
        var signatureManifest = File.ReadAllBytes(files.Blob(signatureDescriptor.Digest));
        var subject = new Descriptor(BundleDocuments.ManifestType, manifestDescriptor.Digest, manifestDescriptor.Size);
        var signature = BundleDocuments.ReadSignatureManifest(signatureManifest, subject);
        var empty = new Descriptor(BundleDocuments.EmptyType, BundleDocuments.DigestOf(BundleDocuments.EmptyBlob), BundleDocuments.EmptyBlob.Length);

        int sent = 0, skipped = 0;
        long before = client.BytesPushed;
        foreach (var blob in layers.Prepend(config).Append(empty).Append(signature))
        {
            var path = files.Blob(blob.Digest);
            if (client.PushBlob(target.Repository, blob.Digest, blob.Size, () => File.OpenRead(path)))
            {
                sent++;
                log?.Invoke($"blob {blob.Digest}: {blob.Size} bytes sent");
            }
            else
            {
                skipped++;
                log?.Invoke($"blob {blob.Digest}: already there");
            }
        }
        var tagged = target.Digest is null ? target.WithTag(target.Tag ?? version) : target;
        client.PushManifest(target.Repository, tagged.Tag ?? manifestDescriptor.Digest, manifest, BundleDocuments.ManifestType);
        bool referrersApi = client.PushManifest(target.Repository, signatureDescriptor.Digest, signatureManifest, BundleDocuments.ManifestType);
        if (!referrersApi)
        {
            UpdateFallbackIndex(client, target, manifestDescriptor.Digest, signatureDescriptor with { ArtifactType = BundleDocuments.SignatureArtifactType, RefName = null });
        }
        return new PushReport(manifestDescriptor.Digest, tagged, sent, skipped, client.BytesPushed - before, referrersApi);
    }

    /// <summary>The referrers tag schema: the index under sha256-HEX gains the signature manifest's descriptor (kept once).</summary>
    private static void UpdateFallbackIndex(RegistryClient client, ImageReference target, string subject, Descriptor referrer)
    {
        var tag = RegistryClient.FallbackTag(subject);
        var existing = new List<(string Digest, long Size, string? ArtifactType)>();
        try
        {
            existing.AddRange(client.Referrers(target.Repository, subject));
        }
        catch (RegistryException e) when (e.Status == 404)
        {
        }
        if (existing.Any(e => e.Digest == referrer.Digest))
        {
            return;
        }
        existing.Add((referrer.Digest, referrer.Size, referrer.ArtifactType));
        using var memory = new MemoryStream();
        using (var w = new Utf8JsonWriter(memory))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", BundleDocuments.IndexType);
            w.WriteStartArray("manifests");
            foreach (var (digest, size, artifactType) in existing)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", BundleDocuments.ManifestType);
                w.WriteString("digest", digest);
                w.WriteNumber("size", size);
                if (artifactType is not null)
                {
                    w.WriteString("artifactType", artifactType);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        client.PushManifest(target.Repository, tag, memory.ToArray(), BundleDocuments.IndexType);
    }
}

/// <summary>A bundle's files by name: the directory itself, or a FILE.tar's members extracted to a scratch directory (removed on dispose).</summary>
internal sealed class BundleFiles : IDisposable
{
    private readonly string _root;
    private readonly bool _scratch;

    private BundleFiles(string root, bool scratch)
    {
        _root = root;
        _scratch = scratch;
    }

    public static BundleFiles Open(string bundle)
    {
        if (Directory.Exists(bundle))
        {
            return new BundleFiles(bundle, false);
        }
        var scratch = Directory.CreateTempSubdirectory("initos-push-").FullName;
        try
        {
            using var input = File.OpenRead(bundle);
            var header = new byte[BundleTar.Block];
            while (input.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length && header.AsSpan().ContainsAnyExcept((byte)0))
            {
                var (name, size) = BundleTar.ReadHeader(header) ?? throw new InvalidDataException($"{bundle}: a tar header not as `initos build bundle` writes it");
                if (name.Split('/').Contains("..") || name.StartsWith('/'))
                {
                    throw new InvalidDataException($"{bundle}: member {name} is not a path inside the bundle");
                }
                var path = Path.Combine(scratch, name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using (var output = File.Create(path))
                {
                    CopyExactly(input, output, size, bundle, name);
                }
                input.ReadExactly(new byte[BundleTar.Padding(size)]);
            }
            return new BundleFiles(scratch, true);
        }
        catch
        {
            Directory.Delete(scratch, true);
            throw;
        }
    }

    public string Member(string name) => Path.Combine(_root, name);

    public string Blob(string digest)
    {
        var path = Member("blobs/sha256/" + digest[7..]);
        return File.Exists(path) ? path : throw new InvalidDataException($"the bundle lacks blob {digest}");
    }

    public void Dispose()
    {
        if (_scratch)
        {
            Directory.Delete(_root, true);
        }
    }

    private static void CopyExactly(Stream input, Stream output, long size, string bundle, string name)
    {
        var buffer = new byte[1 << 20];
        while (size > 0)
        {
            int n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, size));
            if (n <= 0)
            {
                throw new InvalidDataException($"{bundle}: ends inside {name}");
            }
            output.Write(buffer, 0, n);
            size -= n;
        }
    }
}

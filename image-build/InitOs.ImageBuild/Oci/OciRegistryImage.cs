using System.Text.Json;
using InitOs.Sidecar.Registry;

namespace InitOs.ImageBuild.Oci;

/// <summary>
/// `initos build rootfs --from-oci REGISTRY/REPO:TAG`: the image fetched from a registry into an
/// OCI image layout, which <see cref="OciImage"/> then checks like any other (every blob against
/// its descriptor). The manifest is fetched by tag or digest (its bytes hashed; by digest, they
/// must be that digest); from an image index, the linux/amd64 manifest; the config and the
/// layers through the blob cache, each proven by its SHA-256 before it is kept. Docker's schema 2
/// manifests and manifest lists are taken as their OCI counterparts.
/// </summary>
public static class OciRegistryImage
{
    private static readonly string[] IndexTypes = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

    /// <summary>Whether a --from-oci source names a registry image rather than a file or directory here.</summary>
    public static bool IsReference(string source) =>
        !Path.Exists(source) && source.IndexOf('/', StringComparison.Ordinal) is var slash and > 0
        && source[..slash] is var host && (host.Contains('.', StringComparison.Ordinal) || host.Contains(':', StringComparison.Ordinal) || host == "localhost");

    /// <summary>The root filesystem of a registry's image: fetched into a scratch layout (removed after), then built as from any layout.</summary>
    public static OciRootfs.Result Build(ImageReference reference, RegistryClient client, BlobCache cache, OciRootfs.Options options, Action<string>? log = null)
    {
        var layout = Directory.CreateTempSubdirectory("initos-oci-registry-").FullName;
        try
        {
            Fetch(reference, client, cache, layout, log);
            return OciRootfs.Build(layout, options with { Tag = null }, log);
        }
        finally
        {
            Directory.Delete(layout, true);
        }
    }

    /// <summary>Fills <paramref name="layout"/> (an empty directory) with the image; its index names it by the reference's tag. Bytes fetched are the client's.</summary>
    public static void Fetch(ImageReference reference, RegistryClient client, BlobCache cache, string layout, Action<string>? log = null)
    {
        var blobs = Path.Combine(layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        var (bytes, mediaType, digest) = client.GetManifest(reference);
        Write(blobs, digest, bytes);
        var manifest = (bytes, mediaType, digest);
        if (IsIndex(bytes, mediaType))
        {
            var platform = LinuxAmd64(bytes, reference);
            manifest = client.GetManifest(reference with { Tag = null, Digest = platform });
            Write(blobs, manifest.digest, manifest.bytes);
        }
        log?.Invoke($"manifest {manifest.digest}");
        using var document = JsonDocument.Parse(manifest.bytes);
        foreach (var descriptor in Descriptors(document.RootElement, reference))
        {
            var file = cache.Fetch(client, reference.Repository, descriptor.Digest, descriptor.Size);
            var target = Path.Combine(blobs, descriptor.Digest[7..]);
            if (!File.Exists(target))
            {
                File.Copy(file, target);
            }
            log?.Invoke($"blob {descriptor.Digest}: {descriptor.Size} bytes");
        }
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        File.WriteAllBytes(Path.Combine(layout, "index.json"), Index(mediaType, digest, bytes.Length, reference.Tag ?? digest));
    }

    private static bool IsIndex(byte[] bytes, string mediaType)
    {
        if (IndexTypes.Contains(mediaType))
        {
            return true;
        }
        using var document = JsonDocument.Parse(bytes);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("manifests", out _);
    }

    private static string LinuxAmd64(byte[] index, ImageReference reference)
    {
        using var document = JsonDocument.Parse(index);
        foreach (var m in document.RootElement.GetProperty("manifests").EnumerateArray())
        {
            if (m.TryGetProperty("platform", out var p) && p.TryGetProperty("os", out var os) && os.GetString() == "linux"
                && p.TryGetProperty("architecture", out var arch) && arch.GetString() == "amd64"
                && m.TryGetProperty("digest", out var d) && d.GetString() is { } digest && ImageReference.IsSha256(digest))
            {
                return digest;
            }
        }
        throw new RegistryException($"{reference}: the image index has no linux/amd64 manifest");
    }

    /// <summary>The config and the layers a manifest names, each a sha256 digest and a size.</summary>
    private static List<(string Digest, long Size)> Descriptors(JsonElement manifest, ImageReference reference)
    {
        if (manifest.ValueKind != JsonValueKind.Object || !manifest.TryGetProperty("config", out var config) || !manifest.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            throw new RegistryException($"{reference}: the manifest has no config and layers (not an image manifest)");
        }
        return layers.EnumerateArray().Prepend(config).Select(d =>
            d.ValueKind == JsonValueKind.Object && d.TryGetProperty("digest", out var digest) && digest.GetString() is { } text && ImageReference.IsSha256(text)
            && d.TryGetProperty("size", out var size) && size.TryGetInt64(out long n) && n >= 0
                ? (text, n)
                : throw new RegistryException($"{reference}: a descriptor in the manifest without a sha256 digest and size")).ToList();
    }

    private static void Write(string blobs, string digest, byte[] bytes) => File.WriteAllBytes(Path.Combine(blobs, digest[7..]), bytes);

    private static byte[] Index(string mediaType, string digest, long size, string name)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteStartArray("manifests");
            json.WriteStartObject();
            json.WriteString("mediaType", mediaType.Length > 0 ? mediaType : "application/vnd.oci.image.manifest.v1+json");
            json.WriteString("digest", digest);
            json.WriteNumber("size", size);
            json.WriteStartObject("annotations");
            json.WriteString("org.opencontainers.image.ref.name", name);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

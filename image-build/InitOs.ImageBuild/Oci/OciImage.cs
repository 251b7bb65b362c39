using System.IO.Compression;
using System.Text.Json;
using InitOs.Sys;

namespace InitOs.ImageBuild.Oci;

/// <summary>One layer: its file, the digest its blob must have (null in a docker archive, which lists none) and the digest of its tar (the config's diff ID).</summary>
public sealed record OciLayer(string File, string? BlobDigest, string DiffId, string Name);

/// <summary>
/// A container image on the workstation: an OCI image layout (a directory with oci-layout and
/// index.json), the same as a tar (an OCI archive), or a `docker save` archive (manifest.json).
/// What it finds is checked before anything is applied: every blob's size and SHA-256 against
/// the descriptor that names it, the config's diff IDs against the layer count; each layer's
/// diff ID is checked while it is applied (<see cref="OpenLayer"/>).
/// </summary>
public sealed class OciImage : IDisposable
{
    private const string RefName = "org.opencontainers.image.ref.name";
    private const string DockerLayers = "Layers";
    private readonly string? _extracted;

    private OciImage(string source, string reference, string configDigest, IReadOnlyList<OciLayer> layers, string? extracted)
    {
        Source = source;
        Reference = reference;
        ConfigDigest = configDigest;
        Layers = layers;
        _extracted = extracted;
    }

    public string Source { get; }

    /// <summary>The tag chosen (or the only image's).</summary>
    public string Reference { get; }

    /// <summary>"sha256:HEX" of the image's config: what identifies the image's content.</summary>
    public string ConfigDigest { get; }

    public IReadOnlyList<OciLayer> Layers { get; }

    public static OciImage Open(string source, string? tag)
    {
        if (Directory.Exists(source))
        {
            return File.Exists(Path.Combine(source, "oci-layout"))
                ? FromLayout(source, source, tag, null)
                : throw new ArgumentException($"{source}: a directory without oci-layout, so not an OCI image layout");
        }
        if (!File.Exists(source))
        {
            throw new ArgumentException($"{source}: no such image layout or archive");
        }
        var extracted = Directory.CreateTempSubdirectory("initos-oci-").FullName;
        try
        {
            ExtractArchive(source, extracted);
            if (File.Exists(Path.Combine(extracted, "oci-layout")))
            {
                return FromLayout(source, extracted, tag, extracted);
            }
            if (File.Exists(Path.Combine(extracted, "manifest.json")))
            {
                return FromDockerArchive(source, extracted, tag);
            }
            throw new ArgumentException($"{source}: an archive with neither oci-layout (an OCI archive) nor manifest.json (a docker save archive)");
        }
        catch
        {
            Directory.Delete(extracted, true);
            throw;
        }
    }

    /// <summary>The layer's tar, decompressed (gzip or zstd, told by their magic), hashed as it is read: <see cref="DigestingStream.Finish"/> gives its diff ID.</summary>
    public static DigestingStream OpenLayer(OciLayer layer)
    {
        var file = new FileStream(layer.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[4];
        int n = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        file.Position = 0;
        Stream tar = n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B ? new GZipStream(file, CompressionMode.Decompress)
            : n == 4 && magic.SequenceEqual(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }) ? new ZstdSharp.DecompressionStream(file)
            : file;
        return new DigestingStream(new BufferedStream(tar, 1 << 16));
    }

    public void Dispose()
    {
        if (_extracted is not null && Directory.Exists(_extracted))
        {
            Directory.Delete(_extracted, true);
        }
    }

    private static OciImage FromLayout(string source, string layout, string? tag, string? extracted)
    {
        using var index = ReadJson(Path.Combine(layout, "index.json"), source);
        var chosen = Choose(source, index.RootElement, tag);
        var manifestDescriptor = chosen.Descriptor;
        using var manifestOrIndex = ReadBlob(layout, source, manifestDescriptor, "manifest");
        var manifest = manifestOrIndex;
        JsonDocument? platformManifest = null;
        try
        {
            if (manifestOrIndex.RootElement.TryGetProperty("manifests", out _))
            {
                platformManifest = ReadBlob(layout, source, ForPlatform(source, manifestOrIndex.RootElement), "manifest");
                manifest = platformManifest;
            }
            var config = Property(manifest.RootElement, "config", source, "manifest");
            using var configDocument = ReadBlob(layout, source, config, "config");
            var diffIds = DiffIds(configDocument.RootElement, source);
            var layers = Property(manifest.RootElement, "layers", source, "manifest").EnumerateArray().ToList();
            if (layers.Count != diffIds.Count)
            {
                throw new InvalidDataException($"{source}: the manifest lists {layers.Count} layers, the config {diffIds.Count} diff IDs");
            }
            var result = layers.Select((layer, i) =>
            {
                CheckLayerType(source, layer, i);
                var file = VerifiedBlob(layout, source, layer, $"layer {i + 1}");
                return new OciLayer(file, Text(layer, "digest", source, "layer"), diffIds[i], $"{source} layer {i + 1} ({Text(layer, "digest", source, "layer")})");
            }).ToList();
            return new OciImage(source, chosen.Name, Text(config, "digest", source, "config"), result, extracted);
        }
        finally
        {
            platformManifest?.Dispose();
        }
    }

    private static OciImage FromDockerArchive(string source, string extracted, string? tag)
    {
        using var manifest = ReadJson(Path.Combine(extracted, "manifest.json"), source);
        var images = manifest.RootElement.EnumerateArray().ToList();
        var tags = images.SelectMany(i => i.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString() ?? "") : []).ToList();
        var chosen = tag is null
            ? images.Count == 1 ? images[0] : throw new ArgumentException($"{source}: {images.Count} images in the archive; name one with --tag ({string.Join(", ", tags)})")
            : images.FirstOrDefault(i => i.TryGetProperty("RepoTags", out var t) && t.EnumerateArray().Any(x => x.GetString() is { } s && (s == tag || s.EndsWith(":" + tag, StringComparison.Ordinal))));
        if (chosen.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"{source}: no image tagged {tag}; tags there: {(tags.Count == 0 ? "none" : string.Join(", ", tags))}");
        }
        var configName = chosen.GetProperty("Config").GetString() ?? throw new InvalidDataException($"{source}: manifest.json: Config is not a string");
        using var config = ReadJson(Inside(extracted, configName, source), source);
        var diffIds = DiffIds(config.RootElement, source);
        var layerNames = chosen.GetProperty(DockerLayers).EnumerateArray().Select(l => l.GetString() ?? "").ToList();
        if (layerNames.Count != diffIds.Count)
        {
            throw new InvalidDataException($"{source}: manifest.json lists {layerNames.Count} layers, the config {diffIds.Count} diff IDs");
        }
        var layers = layerNames.Select((name, i) => new OciLayer(Inside(extracted, name, source), null, diffIds[i], $"{source} layer {i + 1} ({name})")).ToList();
        var configDigest = "sha256:" + Convert.ToHexStringLower(Digests.HashFile(Inside(extracted, configName, source)));
        return new OciImage(source, tag ?? tags.FirstOrDefault() ?? "", configDigest, layers, extracted);
    }

    private static (JsonElement Descriptor, string Name) Choose(string source, JsonElement index, string? tag)
    {
        var manifests = Property(index, "manifests", source, "index.json").EnumerateArray().ToList();
        string NameOf(JsonElement m) => m.TryGetProperty("annotations", out var a) && a.TryGetProperty(RefName, out var r) ? r.GetString() ?? "" : "";
        if (tag is null)
        {
            return manifests.Count == 1 ? (manifests[0], NameOf(manifests[0]))
                : throw new ArgumentException($"{source}: {manifests.Count} images in index.json; name one with --tag ({string.Join(", ", manifests.Select(NameOf))})");
        }
        var match = manifests.Where(m => NameOf(m) == tag).ToList();
        return match.Count == 1 ? (match[0], tag)
            : throw new ArgumentException($"{source}: no image tagged {tag} in index.json; tags there: {string.Join(", ", manifests.Select(NameOf).Where(n => n.Length > 0).DefaultIfEmpty("none"))}");
    }

    /// <summary>From an image index: the linux/amd64 manifest (the only machines InitOS boots).</summary>
    private static JsonElement ForPlatform(string source, JsonElement index)
    {
        foreach (var m in index.GetProperty("manifests").EnumerateArray())
        {
            if (m.TryGetProperty("platform", out var p) && p.TryGetProperty("os", out var os) && os.GetString() == "linux"
                && p.TryGetProperty("architecture", out var arch) && arch.GetString() == "amd64")
            {
                return m;
            }
        }
        throw new ArgumentException($"{source}: the image index has no linux/amd64 manifest");
    }

    private static readonly HashSet<string> LayerTypes = new(StringComparer.Ordinal)
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };

    private static void CheckLayerType(string source, JsonElement layer, int i)
    {
        var type = Text(layer, "mediaType", source, $"layer {i + 1}");
        if (!LayerTypes.Contains(type))
        {
            throw new ArgumentException($"{source}: layer {i + 1} has media type {type}, not a layer tar (plain, gzip or zstd)");
        }
    }

    private static List<string> DiffIds(JsonElement config, string source) =>
        Property(Property(config, "rootfs", source, "config"), "diff_ids", source, "config rootfs").EnumerateArray()
            .Select(d => d.GetString() is { } s && IsSha256(s) ? s : throw new InvalidDataException($"{source}: config: diff ID {d} is not sha256:<64 hex digits>")).ToList();

    private static JsonDocument ReadBlob(string layout, string source, JsonElement descriptor, string what) =>
        ReadJson(VerifiedBlob(layout, source, descriptor, what), source);

    /// <summary>blobs/sha256/HEX, its size and SHA-256 as the descriptor says, or an error naming the blob.</summary>
    private static string VerifiedBlob(string layout, string source, JsonElement descriptor, string what)
    {
        var digest = Text(descriptor, "digest", source, what);
        if (!IsSha256(digest))
        {
            throw new InvalidDataException($"{source}: {what} digest {digest} is not sha256:<64 hex digits>");
        }
        var path = Path.Combine(layout, "blobs", "sha256", digest[7..]);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new InvalidDataException($"{source}: {what} blob {digest} is missing");
        }
        long size = descriptor.TryGetProperty("size", out var s) && s.TryGetInt64(out var v) ? v : -1;
        if (info.Length != size)
        {
            throw new InvalidDataException($"{source}: {what} blob {digest} has {info.Length} bytes; its descriptor says {size}");
        }
        var actual = "sha256:" + Convert.ToHexStringLower(Digests.HashFile(path));
        return actual == digest ? path : throw new InvalidDataException($"{source}: {what} blob {digest} has digest {actual}: refused");
    }

    private static bool IsSha256(string digest) => digest.Length == 71 && digest.StartsWith("sha256:", StringComparison.Ordinal) && digest[7..].All(char.IsAsciiHexDigitLower);

    private static JsonDocument ReadJson(string path, string source)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {Path.GetFileName(path)}: not JSON ({e.Message})");
        }
        catch (FileNotFoundException)
        {
            throw new InvalidDataException($"{source}: {Path.GetFileName(path)} is missing");
        }
    }

    private static JsonElement Property(JsonElement element, string name, string source, string what) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : throw new InvalidDataException($"{source}: {what}: no \"{name}\"");

    private static string Text(JsonElement element, string name, string source, string what) =>
        Property(element, name, source, what).GetString() ?? throw new InvalidDataException($"{source}: {what}: \"{name}\" is not a string");

    private static string Inside(string root, string name, string source)
    {
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0 && !parts.Contains("..") ? Path.Combine([root, .. parts]) : throw new InvalidDataException($"{source}: \"{name}\" is not a path inside the archive");
    }

    /// <summary>An archive holds plain files and directories only; anything else is refused by name.</summary>
    private static void ExtractArchive(string archive, string into)
    {
        using var file = File.OpenRead(archive);
        var reader = new LayerTarReader(file, archive);
        while (reader.Next() is { } entry)
        {
            var path = entry.Path.Length == 0 ? into : Path.Combine(into, entry.Path);
            switch (entry.Type)
            {
                case LayerEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case LayerEntryType.File:
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                    {
                        reader.CopyData(output);
                    }
                    break;
                default:
                    throw new InvalidDataException($"{archive}: {entry.Path} is a {entry.Type} in an image archive, which holds files and directories only");
            }
        }
    }
}

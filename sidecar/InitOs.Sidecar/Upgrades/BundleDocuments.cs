using System.Text.Json;

namespace InitOs.Sidecar.Upgrades;

/// <summary>A content descriptor of the OCI image spec: what a blob is, its digest and size.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size)
{
    public string? ArtifactType { get; init; }
    /// <summary>org.opencontainers.image.title: an artifact's name (the UKI's file name, an OS image's name).</summary>
    public string? Title { get; init; }
    /// <summary>org.opencontainers.image.ref.name, in the index: the bundle's version.</summary>
    public string? RefName { get; init; }

    /// <summary>The blob's hex digest (its file name under blobs/sha256/).</summary>
    public string Hex => Digest["sha256:".Length..];
}

/// <summary>The bundle's own description (the manifest's config blob): what it is for and its anti-rollback floor.</summary>
/// <param name="Compatible">The machine class it is for; a machine whose signed config names another refuses it.</param>
/// <param name="MinVersion">Once installed, bundles below this version are refused (anti-rollback).</param>
public sealed record BundleDescription(string Version, string Compatible, string MinVersion);

/// <summary>
/// The JSON documents of a bundle (an OCI image layout): written canonically (fixed member
/// order, no spaces), so a reader can demand the exact bytes of the parts no signature covers
/// (oci-layout, index.json) and a flipped bit anywhere is found; and read strictly.
/// </summary>
public static class BundleDocuments
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";
    public const string BundleArtifactType = "application/vnd.initos.bundle.v1";
    public const string SignatureArtifactType = "application/vnd.initos.bundle.signature.v1";
    public const string DescriptionType = "application/vnd.initos.bundle.config.v1+json";
    public const string SignatureType = "application/vnd.initos.sshsig.v1";
    public const string UkiType = "application/vnd.initos.uki.v1";
    public const string OsImageType = "application/vnd.initos.os-image.v1";
    public const string EmptyType = "application/vnd.oci.empty.v1+json";
    /// <summary>The namespace bundle signatures are made in (`ssh-keygen -Y sign -n`): a signature made for anything else is refused.</summary>
    public const string SignatureNamespace = "initos-bundle";

    public static readonly byte[] LayoutFile = """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray();
    public static readonly byte[] EmptyBlob = "{}"u8.ToArray();

    public static string DigestOf(ReadOnlySpan<byte> data) => "sha256:" + Convert.ToHexStringLower(InitOs.Sys.Sha256.Hash(data));

    public static byte[] Description(BundleDescription description) => Json(w =>
    {
        w.WriteNumber("schemaVersion", 1);
        w.WriteString("version", description.Version);
        w.WriteString("compatible", description.Compatible);
        w.WriteString("minVersion", description.MinVersion);
    });

    public static byte[] Manifest(Descriptor config, IReadOnlyList<Descriptor> layers, string version) => Json(w =>
    {
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", ManifestType);
        w.WriteString("artifactType", BundleArtifactType);
        WriteDescriptor(w, "config", config);
        w.WriteStartArray("layers");
        foreach (var layer in layers)
        {
            WriteDescriptor(w, null, layer);
        }
        w.WriteEndArray();
        w.WriteStartObject("annotations");
        w.WriteString("org.opencontainers.image.version", version);
        w.WriteEndObject();
    });

    public static byte[] SignatureManifest(Descriptor signature, Descriptor subject) => Json(w =>
    {
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", ManifestType);
        w.WriteString("artifactType", SignatureArtifactType);
        WriteDescriptor(w, "config", new Descriptor(EmptyType, DigestOf(EmptyBlob), EmptyBlob.Length));
        w.WriteStartArray("layers");
        WriteDescriptor(w, null, signature);
        w.WriteEndArray();
        WriteDescriptor(w, "subject", subject);
    });

    public static byte[] Index(Descriptor manifest, Descriptor signatureManifest) => Json(w =>
    {
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", IndexType);
        w.WriteStartArray("manifests");
        WriteDescriptor(w, null, manifest);
        WriteDescriptor(w, null, signatureManifest);
        w.WriteEndArray();
    });

    /// <summary>The index's two manifests: the bundle's and its signature's (by artifactType).</summary>
    public static (Descriptor Manifest, Descriptor Signature) ReadIndex(byte[] json)
    {
        using var document = Parse(json, "index.json");
        var root = document.RootElement;
        var manifests = Array(root, "manifests", "index.json");
        if (manifests.Count != 2)
        {
            throw new BundleException($"index.json: {manifests.Count} manifests (expected 2: the bundle's and its signature's)");
        }
        var descriptors = manifests.Select(m => ReadDescriptor(m, "index.json manifest")).ToList();
        var bundle = descriptors.SingleOrDefault(d => d.ArtifactType == BundleArtifactType)
            ?? throw new BundleException($"index.json: no manifest of artifactType {BundleArtifactType}");
        var signature = descriptors.SingleOrDefault(d => d.ArtifactType == SignatureArtifactType)
            ?? throw new BundleException($"index.json: no manifest of artifactType {SignatureArtifactType}");
        return (bundle, signature);
    }

    /// <summary>The signature blob's descriptor, from a signature manifest whose subject must be <paramref name="subject"/>.</summary>
    public static Descriptor ReadSignatureManifest(byte[] json, Descriptor subject)
    {
        using var document = Parse(json, "the signature manifest");
        var root = document.RootElement;
        var layers = Array(root, "layers", "the signature manifest");
        if (layers.Count != 1)
        {
            throw new BundleException($"the signature manifest: {layers.Count} layers (expected the signature alone)");
        }
        var signature = ReadDescriptor(layers[0], "the signature manifest's layer");
        var named = ReadDescriptor(Member(root, "subject", "the signature manifest"), "the signature manifest's subject");
        if (named.Digest != subject.Digest || named.Size != subject.Size || signature.MediaType != SignatureType)
        {
            throw new BundleException("the signature manifest is not the signature of this bundle's manifest");
        }
        var canonical = SignatureManifest(signature, subject);
        if (!canonical.AsSpan().SequenceEqual(json))
        {
            throw new BundleException("the signature manifest: not as `initos build bundle` writes it");
        }
        return signature;
    }

    /// <summary>The bundle manifest's config and layers (the manifest is already verified against its signature).</summary>
    public static (Descriptor Config, IReadOnlyList<Descriptor> Layers, string Version) ReadManifest(byte[] json)
    {
        using var document = Parse(json, "the manifest");
        var root = document.RootElement;
        var config = ReadDescriptor(Member(root, "config", "the manifest"), "the manifest's config");
        var layers = Array(root, "layers", "the manifest").Select(l => ReadDescriptor(l, "the manifest's layer")).ToList();
        var version = Text(Member(Member(root, "annotations", "the manifest"), "org.opencontainers.image.version", "the manifest's annotations"), "the manifest's version");
        if (config.MediaType != DescriptionType)
        {
            throw new BundleException($"the manifest's config is {config.MediaType}, not {DescriptionType}");
        }
        return (config, layers, version);
    }

    public static BundleDescription ReadDescription(byte[] json)
    {
        using var document = Parse(json, "the bundle description");
        var root = document.RootElement;
        var known = new[] { "schemaVersion", "version", "compatible", "minVersion" };
        var unknown = root.EnumerateObject().Select(p => p.Name).Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new BundleException($"the bundle description: unknown members {string.Join(", ", unknown)} (a newer InitOS's bundle?)");
        }
        if (Member(root, "schemaVersion", "the bundle description").TryGetInt32(out int schema) is false || schema != 1)
        {
            throw new BundleException("the bundle description: schemaVersion is not 1");
        }
        return new BundleDescription(
            Text(Member(root, "version", "the bundle description"), "version"),
            Text(Member(root, "compatible", "the bundle description"), "compatible"),
            Text(Member(root, "minVersion", "the bundle description"), "minVersion"));
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteDescriptor(Utf8JsonWriter w, string? name, Descriptor d)
    {
        if (name is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(name);
        }
        w.WriteString("mediaType", d.MediaType);
        if (d.ArtifactType is not null)
        {
            w.WriteString("artifactType", d.ArtifactType);
        }
        w.WriteString("digest", d.Digest);
        w.WriteNumber("size", d.Size);
        if (d.Title is not null || d.RefName is not null)
        {
            w.WriteStartObject("annotations");
            if (d.RefName is not null)
            {
                w.WriteString("org.opencontainers.image.ref.name", d.RefName);
            }
            if (d.Title is not null)
            {
                w.WriteString("org.opencontainers.image.title", d.Title);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static Descriptor ReadDescriptor(JsonElement element, string what)
    {
        var digest = Text(Member(element, "digest", what), what + "'s digest");
        if (digest.Length != 71 || !digest.StartsWith("sha256:", StringComparison.Ordinal) || !digest[7..].All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new BundleException($"{what}: digest \"{digest}\" is not sha256: and 64 lower-case hex digits");
        }
        if (!Member(element, "size", what).TryGetInt64(out long size) || size < 0)
        {
            throw new BundleException($"{what}: size is not a count of bytes");
        }
        string? annotation(string key) =>
            element.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object && a.TryGetProperty(key, out var v) ? Text(v, $"{what}'s {key}") : null;
        return new Descriptor(Text(Member(element, "mediaType", what), what + "'s mediaType"), digest, size)
        {
            ArtifactType = element.TryGetProperty("artifactType", out var t) ? Text(t, what + "'s artifactType") : null,
            Title = annotation("org.opencontainers.image.title"),
            RefName = annotation("org.opencontainers.image.ref.name"),
        };
    }

    private static JsonDocument Parse(byte[] json, string what)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new BundleException($"{what}: not UTF-8 text");
        }
        try
        {
            var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new BundleException($"{what}: not a JSON object");
            }
            return document;
        }
        catch (JsonException e)
        {
            throw new BundleException($"{what}: not JSON ({e.Message})");
        }
    }

    private static JsonElement Member(JsonElement element, string name, string what) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : throw new BundleException($"{what}: no \"{name}\"");

    private static List<JsonElement> Array(JsonElement element, string name, string what)
    {
        var value = Member(element, name, what);
        return value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : throw new BundleException($"{what}: \"{name}\" is not an array");
    }

    private static string Text(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new BundleException($"{what} is not a string");
}

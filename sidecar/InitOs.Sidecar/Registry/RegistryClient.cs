using System.Text;
using System.Text.Json;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// The OCI distribution API, as much as bundles and images need: manifests and blobs by
/// digest (checked), blob uploads (one PUT per blob), the referrers API with its tag fallback,
/// Basic and Bearer token authentication. Every answer is hostile input: a manifest's bytes
/// must hash to the digest asked for, a blob's to its descriptor's, sizes are bounded.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const long LargestManifest = 4 << 20;
    public static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    private readonly IRegistryTransport _transport;
    private readonly RegistryOptions _options;
    private readonly string _base;
    private readonly string _registry;
    private string? _authorization;

    /// <summary>A client of <paramref name="registry"/> ("HOST[:PORT]") over <paramref name="transport"/>, which it owns: plain HTTP to a host the options allow, else HTTPS.</summary>
    public RegistryClient(string registry, RegistryOptions options, IRegistryTransport transport)
    {
        _registry = registry;
        _options = options;
        _transport = transport;
        var host = new ImageReference(registry, "x", null, null).Host;
        _base = (options.PlainHttpHosts.Contains(host, StringComparer.OrdinalIgnoreCase) ? "http://" : "https://") + registry;
    }

    /// <summary>Bytes of blob content fetched over the network (resumed downloads count once per byte received).</summary>
    public long BytesFetched { get; private set; }

    /// <summary>Bytes of blob content uploaded.</summary>
    public long BytesPushed { get; private set; }

    public void Dispose() => _transport.Dispose();

    /// <summary>A manifest by tag or digest: its bytes, media type and digest (checked against the digest asked for).</summary>
    public (byte[] Bytes, string MediaType, string Digest) GetManifest(ImageReference reference)
    {
        using var answer = Send(new RegistryRequest("GET", Url(reference.Repository, "manifests", reference.Reference)).With("Accept", string.Join(", ", ManifestTypes)),
            reference.Repository, $"manifest {reference}");
        Expect(answer, 200, $"manifest {reference}");
        var bytes = ReadBounded(answer, LargestManifest, $"manifest {reference}");
        var digest = "sha256:" + Convert.ToHexStringLower(InitOs.Sys.Sha256.Hash(bytes));
        if (reference.Digest is not null && digest != reference.Digest)
        {
            throw new RegistryException($"{_registry}: manifest {reference} has digest {digest}: refused");
        }
        return (bytes, answer.ContentType ?? MediaTypeOf(bytes) ?? "", digest);
    }

    public bool HasBlob(string repository, string digest)
    {
        using var answer = Send(new RegistryRequest("HEAD", Url(repository, "blobs", digest)), repository, $"blob {digest}");
        return answer.Status == 200 || (answer.Status == 404 ? false : throw Failed(answer, $"{repository} blob {digest}"));
    }

    /// <summary>Uploads a blob (POST for a session, then one PUT with the digest) unless the registry has it; true when it was sent.</summary>
    public bool PushBlob(string repository, string digest, long size, Func<Stream> open)
    {
        if (HasBlob(repository, digest))
        {
            return false;
        }
        using var start = Send(new RegistryRequest("POST", Url(repository, "blobs", "uploads/")), repository, $"upload of {digest}");
        Expect(start, 202, $"{repository} upload of {digest}");
        var location = start.Header("Location") ?? throw new RegistryException($"{_registry}/{repository}: upload of {digest}: no Location in the answer (HTTP 202)");
        var target = Uri.TryCreate(location, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal) ? absolute : new Uri(new Uri(_base), location);
        var separator = target.Query.Length > 0 ? "&" : "?";
        using var put = Send(new RegistryRequest("PUT", new Uri(target + separator + "digest=" + Uri.EscapeDataString(digest))) { Body = open, BodyLength = size, ContentType = "application/octet-stream" },
            repository, $"upload of {digest}");
        Expect(put, 201, $"{repository} upload of {digest}");
        BytesPushed += size;
        return true;
    }

    /// <summary>PUT a manifest by tag or digest; true when the registry answered with OCI-Subject (it keeps referrers itself).</summary>
    public bool PushManifest(string repository, string reference, byte[] bytes, string mediaType)
    {
        using var answer = Send(new RegistryRequest("PUT", Url(repository, "manifests", reference)) { Body = () => new MemoryStream(bytes, false), BodyLength = bytes.Length, ContentType = mediaType },
            repository, $"manifest {reference}");
        Expect(answer, 201, $"{_registry}/{repository} manifest {reference}");
        return answer.Header("OCI-Subject") is not null;
    }

    /// <summary>
    /// The manifests that refer to <paramref name="digest"/>: the referrers API when the
    /// registry has it, else the tag fallback (an index tagged sha256-HEX), else none.
    /// </summary>
    public IReadOnlyList<(string Digest, long Size, string? ArtifactType)> Referrers(string repository, string digest)
    {
        using (var answer = Send(new RegistryRequest("GET", Url(repository, "referrers", digest)).With("Accept", "application/vnd.oci.image.index.v1+json"), repository, $"referrers of {digest}"))
        {
            if (answer.Status == 200 && answer.ContentType == "application/vnd.oci.image.index.v1+json")
            {
                return ReadIndex(ReadBounded(answer, LargestManifest, $"referrers of {digest}"), $"{repository} referrers of {digest}");
            }
            if (answer.Status is not (404 or 200))
            {
                throw Failed(answer, $"{repository} referrers of {digest}");
            }
        }
        var fallback = new ImageReference(_registry, repository, FallbackTag(digest), null);
        try
        {
            return ReadIndex(GetManifest(fallback).Bytes, fallback.ToString());
        }
        catch (RegistryException e) when (e.Status == 404)
        {
            return [];
        }
    }

    /// <summary>The referrers tag schema's tag for a digest: "sha256-HEX".</summary>
    public static string FallbackTag(string digest) => digest.Replace(':', '-');

    /// <summary>
    /// Streams a blob from <paramref name="offset"/> into <paramref name="destination"/>; a
    /// dropped connection is resumed with a Range request up to <see cref="RegistryOptions.Resumes"/>
    /// times. The caller checks the digest of the whole (BlobCache).
    /// </summary>
    public void DownloadBlob(string repository, string digest, long size, long offset, Stream destination)
    {
        int resumes = 0;
        while (offset < size)
        {
            try
            {
                offset = DownloadFrom(repository, digest, size, offset, destination);
            }
            catch (IOException)
            {
                offset = destination.Length;
                resumes++;
                if (resumes > _options.Resumes)
                {
                    throw new RegistryException($"{_registry}/{repository}: blob {digest}: the download broke off at byte {offset} of {size} {resumes} times");
                }
            }
        }
    }

    private long DownloadFrom(string repository, string digest, long size, long offset, Stream destination)
    {
        var request = new RegistryRequest("GET", Url(repository, "blobs", digest));
        using var answer = Send(offset > 0 ? request.With("Range", $"bytes={offset}-") : request, repository, $"blob {digest}");
        if (answer.Status == 200 && offset > 0)
        {
            // The registry ignored the Range: start over.
            destination.SetLength(0);
            offset = 0;
        }
        else if (answer.Status != (offset > 0 ? 206 : 200))
        {
            throw Failed(answer, $"{repository} blob {digest}");
        }
        destination.Position = offset;
        var buffer = new byte[1 << 16];
        int n;
        while ((n = answer.Body.Read(buffer)) > 0)
        {
            if (offset + n > size)
            {
                throw new RegistryException($"{_registry}/{repository}: blob {digest} is longer than its descriptor's {size} bytes: refused");
            }
            destination.Write(buffer, 0, n);
            offset += n;
            BytesFetched += n;
        }
        if (offset < size)
        {
            throw new IOException($"the answer ended at byte {offset} of {size}");
        }
        return offset;
    }

    private RegistryAnswer Send(RegistryRequest request, string repository, string what)
    {
        var answer = SendOnce(request, what);
        if (answer.Status != 401 || answer.Header("WWW-Authenticate") is not { } challenge)
        {
            return answer;
        }
        answer.Dispose();
        _authorization = Authenticate(challenge, repository, what);
        return SendOnce(request, what);
    }

    private RegistryAnswer SendOnce(RegistryRequest request, string what)
    {
        try
        {
            return _transport.Send(_authorization is null ? request : request.With("Authorization", _authorization));
        }
        catch (IOException e) when (request.Method != "GET" || !request.Url.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal))
        {
            throw new RegistryException($"{_registry}: {what}: {e.Message}");
        }
    }

    /// <summary>Basic with the credentials, or a Bearer token from the realm the challenge names (with the credentials when there are some).</summary>
    private string Authenticate(string challenge, string repository, string what)
    {
        var basic = _options.Credentials is { } credentials ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)) : null;
        int space = challenge.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? challenge : challenge[..space];
        if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic ?? throw new RegistryException($"{_registry}: {what}: the registry asks for a user and password (HTTP 401); none given", 401);
        }
        if (!scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"{_registry}: {what}: authentication scheme {scheme} is not one InitOS speaks (Basic, Bearer)", 401);
        }
        var parameters = ChallengeParameters(space < 0 ? "" : challenge[(space + 1)..]);
        var realm = parameters.GetValueOrDefault("realm") ?? throw new RegistryException($"{_registry}: {what}: a Bearer challenge without a realm", 401);
        // The realm is the registry's word: the credentials go there only as they would go to a registry.
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUrl) || !(realmUrl.Scheme == "https" || (realmUrl.Scheme == "http" && _options.PlainHttpHosts.Contains(realmUrl.Host, StringComparer.OrdinalIgnoreCase))))
        {
            throw new RegistryException($"{_registry}: {what}: the token service \"{realm}\" is not an https:// URL (nor plain HTTP to a host allowed it); nothing was sent there", 401);
        }
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }
        query.Add("scope=" + Uri.EscapeDataString(parameters.GetValueOrDefault("scope") ?? $"repository:{repository}:pull,push"));
        var request = new RegistryRequest("GET", new Uri(realm + (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query)));
        using var answer = _transport.Send(basic is null ? request : request.With("Authorization", basic));
        if (answer.Status != 200)
        {
            throw new RegistryException($"{_registry}: {what}: the token service {realm} answered HTTP {answer.Status}", answer.Status);
        }
        using var json = JsonDocument.Parse(ReadBounded(answer, 1 << 20, "token"));
        var root = json.RootElement;
        var token = root.ValueKind != JsonValueKind.Object ? null
            : root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
            : root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()
            : null;
        return token is { Length: > 0 } ? "Bearer " + token
            : throw new RegistryException($"{_registry}: {what}: the token service {realm} gave no token");
    }

    /// <summary>realm="…",service="…",scope="…" (quoted values; a comma inside quotes stays in the value).</summary>
    private static Dictionary<string, string> ChallengeParameters(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int at = 0;
        while (at < parameter.Length)
        {
            int equals = parameter.IndexOf('=', at);
            if (equals < 0 || equals + 1 >= parameter.Length || parameter[equals + 1] != '"')
            {
                break;
            }
            int close = parameter.IndexOf('"', equals + 2);
            if (close < 0)
            {
                break;
            }
            result[parameter[at..equals].Trim(' ', ',')] = parameter[(equals + 2)..close];
            at = close + 1;
        }
        return result;
    }

    private IReadOnlyList<(string Digest, long Size, string? ArtifactType)> ReadIndex(byte[] bytes, string what)
    {
        try
        {
            using var json = JsonDocument.Parse(bytes);
            return json.RootElement.GetProperty("manifests").EnumerateArray().Select(m => (
                Digest: m.GetProperty("digest").GetString() is { } d && ImageReference.IsSha256(d) ? d : throw new RegistryException($"{_registry}: {what}: a descriptor's digest is not sha256:<hex>"),
                Size: m.GetProperty("size").GetInt64(),
                ArtifactType: m.TryGetProperty("artifactType", out var at) ? at.GetString() : null)).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RegistryException($"{_registry}: {what}: not an image index ({e.Message})");
        }
    }

    private static string? MediaTypeOf(byte[] bytes)
    {
        try
        {
            using var json = JsonDocument.Parse(bytes);
            return json.RootElement.TryGetProperty("mediaType", out var t) ? t.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] ReadBounded(RegistryAnswer answer, long largest, string what)
    {
        if (answer.ContentLength > largest)
        {
            throw new RegistryException($"{what}: {answer.ContentLength} bytes (at most {largest})");
        }
        using var memory = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = answer.Body.Read(buffer)) > 0)
        {
            memory.Write(buffer, 0, n);
            if (memory.Length > largest)
            {
                throw new RegistryException($"{what}: more than {largest} bytes");
            }
        }
        return memory.ToArray();
    }

    private void Expect(RegistryAnswer answer, int status, string what)
    {
        if (answer.Status != status)
        {
            throw Failed(answer, what);
        }
    }

    private RegistryException Failed(RegistryAnswer answer, string what)
    {
        string detail = "";
        try
        {
            detail = Encoding.UTF8.GetString(ReadBounded(answer, 4096, what)).Trim();
        }
        catch (Exception e) when (e is RegistryException or IOException)
        {
            // The status says enough.
        }
        return new RegistryException($"{_registry}: {what}: HTTP {answer.Status} {answer.Reason}{(detail.Length > 0 ? ": " + detail[..Math.Min(300, detail.Length)] : "")}", answer.Status);
    }

    private Uri Url(string repository, string kind, string reference) => new($"{_base}/v2/{repository}/{kind}/{reference}");
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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

    private readonly HttpClient _http;
    private readonly RegistryOptions _options;
    private readonly string _base;
    private readonly string _registry;
    private AuthenticationHeaderValue? _authorization;

    public RegistryClient(string registry, RegistryOptions options)
    {
        _registry = registry;
        _options = options;
        var host = new ImageReference(registry, "x", null, null).Host;
        bool plain = options.PlainHttpHosts.Contains(host, StringComparer.OrdinalIgnoreCase);
        _base = (plain ? "http://" : "https://") + registry;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (!plain && (options.CaBundle is not null || options.PinnedSha256 is not null))
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = CheckCertificate };
        }
        _http = new HttpClient(handler) { Timeout = options.Timeout };
    }

    /// <summary>Bytes of blob content fetched over the network (resumed downloads count once per byte received).</summary>
    public long BytesFetched { get; private set; }

    /// <summary>Bytes of blob content uploaded.</summary>
    public long BytesPushed { get; private set; }

    public void Dispose() => _http.Dispose();

    /// <summary>A manifest by tag or digest: its bytes, media type and digest (checked against the digest asked for).</summary>
    public (byte[] Bytes, string MediaType, string Digest) GetManifest(ImageReference reference)
    {
        using var response = Send(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url(reference.Repository, "manifests", reference.Reference));
            foreach (var type in ManifestTypes)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }
            return request;
        }, reference.Repository, $"manifest {reference}");
        Expect(response, HttpStatusCode.OK, $"manifest {reference}");
        var bytes = ReadBounded(response, LargestManifest, $"manifest {reference}");
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (reference.Digest is not null && digest != reference.Digest)
        {
            throw new RegistryException($"{_registry}: manifest {reference} has digest {digest}: refused");
        }
        var type = response.Content.Headers.ContentType?.MediaType ?? MediaTypeOf(bytes) ?? "";
        return (bytes, type, digest);
    }

    public bool HasBlob(string repository, string digest)
    {
        using var response = Send(() => new HttpRequestMessage(HttpMethod.Head, Url(repository, "blobs", digest)), repository, $"blob {digest}");
        return response.StatusCode == HttpStatusCode.OK || (response.StatusCode == HttpStatusCode.NotFound ? false : throw Failed(response, $"{repository} blob {digest}"));
    }

    /// <summary>Uploads a blob (POST for a session, then one PUT with the digest) unless the registry has it; true when it was sent.</summary>
    public bool PushBlob(string repository, string digest, long size, Func<Stream> open)
    {
        if (HasBlob(repository, digest))
        {
            return false;
        }
        using var start = Send(() => new HttpRequestMessage(HttpMethod.Post, Url(repository, "blobs", "uploads/")), repository, $"upload of {digest}");
        Expect(start, HttpStatusCode.Accepted, $"{repository} upload of {digest}");
        var location = start.Headers.Location ?? throw new RegistryException($"{_registry}/{repository}: upload of {digest}: no Location in the answer (HTTP 202)");
        var target = location.IsAbsoluteUri ? location : new Uri(new Uri(_base), location);
        var separator = target.Query.Length > 0 ? "&" : "?";
        using var put = Send(() =>
        {
            var content = new StreamContent(open());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = size;
            return new HttpRequestMessage(HttpMethod.Put, new Uri(target + separator + "digest=" + Uri.EscapeDataString(digest))) { Content = content };
        }, repository, $"upload of {digest}");
        Expect(put, HttpStatusCode.Created, $"{repository} upload of {digest}");
        BytesPushed += size;
        return true;
    }

    /// <summary>PUT a manifest by tag or digest; true when the registry answered with OCI-Subject (it keeps referrers itself).</summary>
    public bool PushManifest(string repository, string reference, byte[] bytes, string mediaType)
    {
        using var response = Send(() =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, Url(repository, "manifests", reference)) { Content = content };
        }, repository, $"manifest {reference}");
        Expect(response, HttpStatusCode.Created, $"{_registry}/{repository} manifest {reference}");
        return response.Headers.Contains("OCI-Subject");
    }

    /// <summary>
    /// The manifests that refer to <paramref name="digest"/>: the referrers API when the
    /// registry has it, else the tag fallback (an index tagged sha256-HEX), else none.
    /// </summary>
    public IReadOnlyList<(string Digest, long Size, string? ArtifactType)> Referrers(string repository, string digest)
    {
        using (var response = Send(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url(repository, "referrers", digest));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.index.v1+json"));
            return request;
        }, repository, $"referrers of {digest}"))
        {
            if (response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "application/vnd.oci.image.index.v1+json")
            {
                return ReadIndex(ReadBounded(response, LargestManifest, $"referrers of {digest}"), $"{repository} referrers of {digest}");
            }
            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.OK))
            {
                throw Failed(response, $"{repository} referrers of {digest}");
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
            catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException)
            {
                offset = destination.Length;
                resumes++;
                if (resumes > _options.Resumes)
                {
                    throw new RegistryException($"{_registry}/{repository}: blob {digest}: the download broke off at byte {offset} of {size} {resumes} times ({e.Message})");
                }
            }
        }
    }

    private long DownloadFrom(string repository, string digest, long size, long offset, Stream destination)
    {
        using var response = Send(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url(repository, "blobs", digest));
            if (offset > 0)
            {
                request.Headers.Range = new RangeHeaderValue(offset, null);
            }
            return request;
        }, repository, $"blob {digest}", HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.OK && offset > 0)
        {
            // The registry ignored the Range: start over.
            destination.SetLength(0);
            offset = 0;
        }
        else if (response.StatusCode != (offset > 0 ? HttpStatusCode.PartialContent : HttpStatusCode.OK))
        {
            throw Failed(response, $"{repository} blob {digest}");
        }
        destination.Position = offset;
        using var body = response.Content.ReadAsStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = body.Read(buffer)) > 0)
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

    private HttpResponseMessage Send(Func<HttpRequestMessage> make, string repository, string what, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var response = SendOnce(make, completion, what);
        if (response.StatusCode != HttpStatusCode.Unauthorized || response.Headers.WwwAuthenticate.Count == 0)
        {
            return response;
        }
        var challenge = response.Headers.WwwAuthenticate.First();
        response.Dispose();
        _authorization = Authenticate(challenge, repository, what);
        return SendOnce(make, completion, what);
    }

    private HttpResponseMessage SendOnce(Func<HttpRequestMessage> make, HttpCompletionOption completion, string what)
    {
        using var request = make();
        request.Headers.Authorization = _authorization;
        try
        {
            return _http.Send(request, completion);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            throw new RegistryException($"{_registry}: {what}: the registry's certificate is not trusted ({e.InnerException.Message})");
        }
        catch (HttpRequestException e) when (request.Content is null)
        {
            throw new RegistryException($"{_registry}: {what}: {e.Message}");
        }
    }

    /// <summary>Basic with the credentials, or a Bearer token from the realm the challenge names (with the credentials when there are some).</summary>
    private AuthenticationHeaderValue Authenticate(AuthenticationHeaderValue challenge, string repository, string what)
    {
        var basic = _options.Credentials is { } credentials ? Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)) : null;
        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic is not null ? new AuthenticationHeaderValue("Basic", basic)
                : throw new RegistryException($"{_registry}: {what}: the registry asks for a user and password (HTTP 401); none given", 401);
        }
        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"{_registry}: {what}: authentication scheme {challenge.Scheme} is not one InitOS speaks (Basic, Bearer)", 401);
        }
        var parameters = ChallengeParameters(challenge.Parameter ?? "");
        var realm = parameters.GetValueOrDefault("realm") ?? throw new RegistryException($"{_registry}: {what}: a Bearer challenge without a realm", 401);
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }
        query.Add("scope=" + Uri.EscapeDataString(parameters.GetValueOrDefault("scope") ?? $"repository:{repository}:pull,push"));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query));
        if (basic is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }
        using var response = _http.Send(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new RegistryException($"{_registry}: {what}: the token service {realm} answered HTTP {(int)response.StatusCode}", (int)response.StatusCode);
        }
        using var json = JsonDocument.Parse(ReadBounded(response, 1 << 20, "token"));
        var token = (json.RootElement.TryGetProperty("token", out var t) ? t : json.RootElement.TryGetProperty("access_token", out var a) ? a : default).GetString();
        return token is { Length: > 0 } ? new AuthenticationHeaderValue("Bearer", token)
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

    private bool CheckCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }
        using var presented = new X509Certificate2(certificate);
        if (_options.PinnedSha256 is { } pin)
        {
            return Convert.ToHexStringLower(SHA256.HashData(presented.RawData)) == pin.ToLowerInvariant().Replace(":", "", StringComparison.Ordinal);
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(_options.CaBundle!);
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return custom.Build(presented);
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

    private static byte[] ReadBounded(HttpResponseMessage response, long largest, string what)
    {
        if (response.Content.Headers.ContentLength > largest)
        {
            throw new RegistryException($"{what}: {response.Content.Headers.ContentLength} bytes (at most {largest})");
        }
        using var stream = response.Content.ReadAsStream();
        using var memory = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            memory.Write(buffer, 0, n);
            if (memory.Length > largest)
            {
                throw new RegistryException($"{what}: more than {largest} bytes");
            }
        }
        return memory.ToArray();
    }

    private void Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
        {
            throw Failed(response, what);
        }
    }

    private RegistryException Failed(HttpResponseMessage response, string what)
    {
        string detail = "";
        try
        {
            detail = Encoding.UTF8.GetString(ReadBounded(response, 4096, what)).Trim();
        }
        catch (Exception e) when (e is RegistryException or IOException or HttpRequestException)
        {
            // The status says enough.
        }
        return new RegistryException($"{_registry}: {what}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(detail.Length > 0 ? ": " + detail[..Math.Min(300, detail.Length)] : "")}", (int)response.StatusCode);
    }

    private Uri Url(string repository, string kind, string reference) => new($"{_base}/v2/{repository}/{kind}/{reference}");
}

using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace InitOs.TestKit;

/// <summary>
/// The OCI 1.1 referrers API in front of a docker-registry (Distribution 2.8 lacks it, and no
/// registry in Debian 12 has it): every request is passed to the registry, except GET
/// /v2/NAME/referrers/DIGEST, answered from the manifests with a subject that were pushed through
/// here; their PUT is answered with OCI-Subject, as a registry with the API answers it.
/// </summary>
public sealed partial class ReferrersShim : IDisposable
{
    private static readonly string[] NotCopied = ["Host", "Content-Length", "Content-Type", "Connection", "Transfer-Encoding", "Keep-Alive"];

    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly Dictionary<string, List<string>> _referrers = new(StringComparer.Ordinal);
    private int _answered;

    public ReferrersShim(int registryPort)
    {
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{registryPort}") };
        Port = LocalRegistry.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>How many referrers requests were answered (with the API, not the fallback tag).</summary>
    public int ReferrersAnswered => Volatile.Read(ref _answered);

    [GeneratedRegex("^/v2/(?<name>.+)/referrers/(?<digest>sha256:[0-9a-f]{64})$")]
    private static partial Regex ReferrersPath();

    [GeneratedRegex("^/v2/(?<name>.+)/manifests/[^/]+$")]
    private static partial Regex ManifestPath();

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            try
            {
                var context = await _listener.GetContextAsync();
                _ = Task.Run(() => Handle(context));
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        if (request.HttpMethod == "GET" && ReferrersPath().Match(path) is { Success: true } referrers)
        {
            Interlocked.Increment(ref _answered);
            string[] descriptors;
            lock (_referrers)
            {
                descriptors = [.. _referrers.GetValueOrDefault(referrers.Groups["name"].Value + "@" + referrers.Groups["digest"].Value, [])];
            }
            var index = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{string.Join(',', descriptors)}]}}");
            context.Response.ContentType = "application/vnd.oci.image.index.v1+json";
            context.Response.ContentLength64 = index.Length;
            await context.Response.OutputStream.WriteAsync(index);
            context.Response.Close();
            return;
        }
        var body = Array.Empty<byte>();
        if (request.HasEntityBody)
        {
            using var buffer = new MemoryStream();
            await request.InputStream.CopyToAsync(buffer);
            body = buffer.ToArray();
        }
        using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), request.Url.PathAndQuery);
        foreach (var name in request.Headers.AllKeys.OfType<string>().Where(n => !NotCopied.Contains(n, StringComparer.OrdinalIgnoreCase)))
        {
            message.Headers.TryAddWithoutValidation(name, request.Headers.GetValues(name) ?? []);
        }
        // The registry builds its Location headers from Host: they come back through here.
        message.Headers.Host = request.Headers["Host"];
        if (request.HasEntityBody)
        {
            message.Content = new ByteArrayContent(body);
            if (request.ContentType is { } type)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }
        using var response = await _upstream.SendAsync(message);
        var answer = await response.Content.ReadAsByteArrayAsync();
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers).Where(h => !NotCopied.Contains(h.Key, StringComparer.OrdinalIgnoreCase)))
        {
            foreach (var value in values)
            {
                context.Response.Headers.Add(name, value);
            }
        }
        if (response.Content.Headers.ContentType is { } contentType)
        {
            context.Response.ContentType = contentType.ToString();
        }
        if (request.HttpMethod == "PUT" && response.StatusCode == HttpStatusCode.Created && ManifestPath().Match(path) is { Success: true } manifest && Subject(body) is { } subject)
        {
            lock (_referrers)
            {
                var key = manifest.Groups["name"].Value + "@" + subject.Digest;
                _referrers.TryAdd(key, []);
                _referrers[key].Add(subject.Descriptor);
            }
            context.Response.Headers.Add("OCI-Subject", subject.Digest);
        }
        if (request.HttpMethod == "HEAD")
        {
            context.Response.ContentLength64 = response.Content.Headers.ContentLength ?? 0;
        }
        else
        {
            context.Response.ContentLength64 = answer.Length;
            await context.Response.OutputStream.WriteAsync(answer);
        }
        context.Response.Close();
    }

    /// <summary>A manifest's subject digest, and the descriptor of the manifest for its referrers index.</summary>
    private static (string Digest, string Descriptor)? Subject(byte[] manifest)
    {
        using var document = JsonDocument.Parse(manifest);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("subject", out var subject))
        {
            return null;
        }
        var artifactType = root.TryGetProperty("artifactType", out var a) ? a.GetString() : root.GetProperty("config").GetProperty("mediaType").GetString();
        var mediaType = root.TryGetProperty("mediaType", out var m) ? m.GetString() : "application/vnd.oci.image.manifest.v1+json";
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
        return (subject.GetProperty("digest").GetString()!, $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":{manifest.Length},\"artifactType\":\"{artifactType}\"}}");
    }

    public void Dispose()
    {
        _listener.Close();
        _upstream.Dispose();
    }
}

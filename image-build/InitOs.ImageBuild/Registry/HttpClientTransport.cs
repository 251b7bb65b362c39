using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using InitOs.Sidecar.Registry;

namespace InitOs.ImageBuild.Registry;

/// <summary>
/// The workstation's way to a registry: .NET's HttpClient (HTTP/1.1 and 2, TLS, redirects;
/// the Authorization header is not carried to another host). The registry's certificate is
/// checked against the system's roots, or a CA bundle, or one pinned certificate
/// (<see cref="RegistryOptions"/>).
/// </summary>
public sealed class HttpClientTransport : IRegistryTransport
{
    private readonly HttpClient _http;
    private readonly RegistryOptions _options;

    public HttpClientTransport(RegistryOptions options)
    {
        _options = options;
        var handler = new SocketsHttpHandler { AllowAutoRedirect = true, ConnectTimeout = TimeSpan.FromSeconds(30) };
        if (options.CaBundle is not null || options.PinnedSha256 is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = CheckCertificate };
        }
        _http = new HttpClient(handler) { Timeout = options.Timeout };
    }

    public static RegistryClient Client(string registry, RegistryOptions options) => new(registry, options, new HttpClientTransport(options));

    public RegistryAnswer Send(RegistryRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
        if (request.Body is { } open)
        {
            var content = new StreamContent(open());
            content.Headers.ContentType = new MediaTypeHeaderValue(request.ContentType ?? "application/octet-stream");
            content.Headers.ContentLength = request.BodyLength;
            message.Content = content;
        }
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        HttpResponseMessage response;
        try
        {
            response = _http.Send(message, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException)
        {
            throw new RegistryException($"{request.Url.Authority}: the registry's certificate is not trusted ({e.InnerException.Message})");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new IOException($"{request.Url.Authority}: {e.Message}", e);
        }
        var headers = response.Headers.Concat(response.Content.Headers)
            .SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))).ToList();
        return new RegistryAnswer((int)response.StatusCode, response.ReasonPhrase ?? "", headers, new ResponseStream(response));
    }

    public void Dispose() => _http.Dispose();

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
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(_options.CaBundle!);
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        return custom.Build(presented);
    }

    /// <summary>The response's body; disposing it disposes the response.</summary>
    private sealed class ResponseStream(HttpResponseMessage response) : InitOs.Sidecar.ReadOnlyStream
    {
        private readonly Stream _body = response.Content.ReadAsStream();

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return _body.Read(buffer, offset, count);
            }
            catch (HttpRequestException e)
            {
                throw new IOException(e.Message, e);
            }
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _body.Dispose();
                response.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

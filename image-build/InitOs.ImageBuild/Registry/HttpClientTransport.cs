using System.Net.Http.Headers;
using System.Net.Security;
using InitOs.Sidecar.Registry;

namespace InitOs.ImageBuild.Registry;

/// <summary>
/// The workstation's way to a registry: .NET's HttpClient (HTTP/1.1 and 2, TLS, redirects;
/// the Authorization header is not carried to another host). The registry's certificate is
/// checked against the system's roots, or CA certificates, or one pinned certificate
/// (<see cref="CertificateTrust"/>).
/// </summary>
public sealed class HttpClientTransport : IRegistryTransport
{
    private readonly HttpClient _http;

    public HttpClientTransport(RegistryOptions options)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = true, ConnectTimeout = TimeSpan.FromSeconds(30) };
        if (CertificateTrust.HasOwnTrust(options))
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, errors) => CertificateTrust.Check(options, certificate, errors) };
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

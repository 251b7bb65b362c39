using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace InitOs.TestKit;

/// <summary>
/// A registry token service (the Docker/Distribution token protocol) for tests: GET /token with
/// service and scope; the user and password of <see cref="Credentials"/> get every action they
/// ask for, a request without credentials gets pull only (an anonymous, public repository), wrong
/// credentials get 401. Tokens are ES256 JWTs whose x5c header carries the signing certificate,
/// which the registry trusts through <see cref="CertificateFile"/>.
/// </summary>
public sealed class TokenServer : IDisposable
{
    public const string Service = "initos-registry";
    public const string Issuer = "initos-test-issuer";

    private readonly HttpListener _listener = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly List<string> _requests = [];

    public TokenServer(string directory, string credentials, string host = "127.0.0.1")
    {
        Credentials = credentials;
        _certificate = new CertificateRequest("CN=initos-token-signer", _key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        CertificateFile = Path.Combine(directory, "token-signer.pem");
        File.WriteAllText(CertificateFile, _certificate.ExportCertificatePem());
        Port = LocalRegistry.FreePort();
        Realm = $"http://{host}:{Port}/token";
        _listener.Prefixes.Add($"http://{host}:{Port}/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    public string Credentials { get; }

    public string CertificateFile { get; }

    public int Port { get; }

    public string Realm { get; }

    /// <summary>Each request: "user scope" ("-" for none).</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var scope = context.Request.QueryString["scope"] ?? "";
        var authorization = context.Request.Headers["Authorization"];
        string? user = null;
        if (authorization is not null)
        {
            var given = authorization.StartsWith("Basic ", StringComparison.Ordinal) ? Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..])) : "";
            if (given != Credentials)
            {
                lock (_requests)
                {
                    _requests.Add($"(refused) {scope}");
                }
                context.Response.StatusCode = 401;
                context.Response.Close();
                return;
            }
            user = given[..given.IndexOf(':', StringComparison.Ordinal)];
        }
        lock (_requests)
        {
            _requests.Add($"{user ?? "-"} {scope}");
        }
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["token"] = Token(user, scope) }));
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
        context.Response.Close();
    }

    /// <summary>repository:NAME:ACTIONS scopes, granted whole to a user and pull-only to anyone.</summary>
    private string Token(string? user, string scopes)
    {
        var access = new List<object>();
        foreach (var scope in scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = scope.Split(':');
            if (parts.Length == 3 && parts[0] == "repository")
            {
                var actions = parts[2].Split(',').Where(a => user is not null || a == "pull").ToArray();
                access.Add(new Dictionary<string, object> { ["type"] = "repository", ["name"] = parts[1], ["actions"] = actions });
            }
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) } };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = user ?? "",
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 60,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _listener.Close();
        _certificate.Dispose();
        _key.Dispose();
    }
}

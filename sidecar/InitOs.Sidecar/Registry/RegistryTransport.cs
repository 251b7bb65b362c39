namespace InitOs.Sidecar.Registry;

/// <summary>One HTTP request of the registry client: method, URL, headers, and for uploads a body.</summary>
public sealed record RegistryRequest(string Method, Uri Url)
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The upload's bytes (opened when sent), its length and type.</summary>
    public Func<Stream>? Body { get; init; }

    public long BodyLength { get; init; }

    public string? ContentType { get; init; }

    public RegistryRequest With(string name, string value) => this with { Headers = [.. Headers, new(name, value)] };
}

/// <summary>An answer: status, headers (names compared without case), and the body as a stream read once.</summary>
public sealed class RegistryAnswer(int status, string reason, IReadOnlyList<KeyValuePair<string, string>> headers, Stream body) : IDisposable
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;

    public Stream Body { get; } = body;

    public IEnumerable<string> All(string name) => headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string? Header(string name) => All(name).FirstOrDefault();

    public long? ContentLength => long.TryParse(Header("Content-Length"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The media type of Content-Type, without parameters.</summary>
    public string? ContentType => Header("Content-Type")?.Split(';')[0].Trim();

    public void Dispose() => Body.Dispose();
}

/// <summary>
/// How the registry client's requests travel. The workstation uses .NET's HttpClient (HTTPS,
/// CA bundles, pins); the machine a small HTTP/1.1 client over the interop layer's TCP calls,
/// with SslStream for HTTPS (<see cref="MachineHttpTransport"/>): HttpClient would add about
/// 3 MB to the box.
/// </summary>
public interface IRegistryTransport : IDisposable
{
    /// <summary>Sends the request; a connection that fails or drops throws IOException.</summary>
    RegistryAnswer Send(RegistryRequest request);
}

namespace InitOs.Sidecar.Registry;

/// <summary>
/// How a registry is reached. HTTPS always, checked against the system's roots (workstation
/// only), CA certificates (<see cref="CaPem"/>) or one pinned certificate (<see
/// cref="PinnedSha256"/>, the SHA-256 of its DER bytes): <see cref="CertificateTrust"/>; plain
/// HTTP only to a host named in <see cref="PlainHttpHosts"/>, and on the workstation only to a
/// loopback one (a test registry).
/// </summary>
public sealed record RegistryOptions
{
    /// <summary>The CA certificates, PEM text (the workstation's --ca file, the machine's [upgrade] registry_ca).</summary>
    public string? CaPem { get; init; }

    public string? PinnedSha256 { get; init; }

    public IReadOnlyList<string> PlainHttpHosts { get; init; } = [];

    /// <summary>user:password for Basic authentication, or for a token service that asks for it.</summary>
    public string? Credentials { get; init; }

    /// <summary>How many times a dropped blob download is resumed (Range) before giving up.</summary>
    public int Resumes { get; init; } = 5;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    public static bool IsLoopback(string host) =>
        host == "localhost" || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}

namespace InitOs.Sidecar.Registry;

/// <summary>
/// REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:HEX. The registry is always named (a
/// host with a dot or a port, or localhost): InitOS has no default registry to guess.
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>The tag or digest a manifest is fetched by.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    public override string ToString() => $"{Registry}/{Repository}{(Digest is null ? ":" + (Tag ?? "latest") : "@" + Digest)}";

    /// <summary>The host without its port (for the plain-HTTP rule).</summary>
    public string Host => Registry.StartsWith('[') ? Registry[1..Registry.IndexOf(']', StringComparison.Ordinal)] : Registry.Split(':')[0];

    public ImageReference WithDigest(string digest) => this with { Tag = null, Digest = digest };

    public ImageReference WithTag(string tag) => this with { Tag = tag, Digest = null };

    public static ImageReference Parse(string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new ArgumentException($"image reference \"{text}\": expected REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]");
        }
        var registry = text[..slash];
        if (!registry.Contains('.', StringComparison.Ordinal) && !registry.Contains(':', StringComparison.Ordinal) && registry != "localhost")
        {
            throw new ArgumentException($"image reference \"{text}\": \"{registry}\" is not a registry host (a name with a dot or a port, or localhost)");
        }
        var rest = text[(slash + 1)..];
        string? digest = null, tag = null;
        int at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!IsSha256(digest))
            {
                throw new ArgumentException($"image reference \"{text}\": digest \"{digest}\" is not sha256:<64 lowercase hex digits>");
            }
        }
        int colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/') && colon >= 0)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (tag.Length is 0 or > 128 || !(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_') || !tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                throw new ArgumentException($"image reference \"{text}\": tag \"{tag}\" is not a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})");
            }
        }
        var components = rest.Split('/');
        if (components.Any(c => c.Length == 0 || !char.IsAsciiLetterLower(c[0]) && !char.IsAsciiDigit(c[0]) || !c.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '.' or '_' or '-')))
        {
            throw new ArgumentException($"image reference \"{text}\": repository \"{rest}\" is not a repository name (lowercase letters, digits, '.', '_', '-', separated by '/')");
        }
        return new ImageReference(registry, rest, tag, digest);
    }

    public static bool IsSha256(string digest) =>
        digest.Length == 71 && digest.StartsWith("sha256:", StringComparison.Ordinal) && digest[7..].All(char.IsAsciiHexDigitLower);
}

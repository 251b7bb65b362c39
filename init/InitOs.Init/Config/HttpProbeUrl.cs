using System.Globalization;
using System.Net;

namespace InitOs.Init.Config;

/// <summary>
/// An [[upgrade.probe]] http URL: http://IPV4[:PORT][/PATH]. Parsed here rather than by System.Uri,
/// which would add its whole parser to the box for this one shape.
/// </summary>
public sealed record HttpProbeUrl(IPAddress Address, int Port, string Path)
{
    public string Authority => Port == 80 ? Address.ToString() : $"{Address}:{Port}";

    public static HttpProbeUrl? TryParse(string text)
    {
        const string scheme = "http://";
        if (!text.StartsWith(scheme, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = text[scheme.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "/" : rest[slash..];
        int colon = authority.IndexOf(':', StringComparison.Ordinal);
        var host = colon < 0 ? authority : authority[..colon];
        int port = 80;
        if (colon >= 0 && !(int.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536))
        {
            return null;
        }
        if (!IsIpv4(host) || path.Any(c => c <= ' ' || c > '~'))
        {
            return null;
        }
        return new HttpProbeUrl(IPAddress.Parse(host), port, path);
    }

    /// <summary>Four dotted decimal numbers, as a person writes an IPv4 address (not IPAddress's other forms).</summary>
    public static bool IsIpv4(string text) =>
        text.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
}

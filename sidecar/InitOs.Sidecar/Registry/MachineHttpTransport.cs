using System.Globalization;
using System.Net;
using System.Text;
using InitOs.Sys;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// HTTP/1.1 over one TCP connection per request (Connection: close), to an IPv4 address: the
/// machine's way to a registry. HTTPS through the interop layer's TlsConnection (OpenSSL's
/// libssl, which the initramfs carries when its config names an HTTPS registry), trusted only
/// through the signed config's CA certificates or pin (the initramfs has no system roots);
/// plain HTTP only to the hosts the config allows. Bodies are read by Content-Length, chunked
/// transfer coding, or to the end of the connection; headers are bounded (64 KiB). No
/// redirects, no DNS (the machine has no resolver): each refused with a message that says so.
/// HttpClient, or SslStream alone, would add about 3 MB to the box.
/// </summary>
public sealed class MachineHttpTransport(RegistryOptions options, TimeSpan timeout) : IRegistryTransport
{
    private const int LargestHead = 64 * 1024;

    public RegistryAnswer Send(RegistryRequest request)
    {
        var url = request.Url;
        if (url.Scheme == "https" && options.CaPem is null && options.PinnedSha256 is null)
        {
            throw new RegistryException($"{url.Authority}: HTTPS from the machine needs [upgrade] registry_ca or registry_pin in the signed config (the initramfs carries no system roots)");
        }
        if (!IPAddress.TryParse(url.Host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new RegistryException($"{url.Authority}: the machine has no name resolver; name the registry by its IPv4 address");
        }
        TcpConnection connection;
        try
        {
            connection = TcpConnection.Connect(address, url.Port, timeout);
        }
        catch (SysException e)
        {
            throw new IOException($"{url.Authority}: {e.Message}", e);
        }
        Stream channel;
        try
        {
            channel = url.Scheme == "https" ? new ConnectionStream(Tls(connection, url)) : new ConnectionStream(connection, timeout);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        try
        {
            SendRequest(channel, request);
            var stream = new BufferedStream(channel, 1 << 16);
            var (status, reason, headers) = ReadHead(stream, url);
            Stream body = request.Method == "HEAD" || status is 204 or 304 ? Stream.Null
                : headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) ? new ChunkedBody(stream)
                : headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value is { } length ? new LengthBody(stream, ParseLength(length, url))
                : stream;
            return new RegistryAnswer(status, reason, headers, new ConnectionBody(body, stream));
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
    }

    /// <summary>TLS to the registry, its certificate checked by the config's trust before a byte of the request goes out.</summary>
    private TlsConnection Tls(TcpConnection connection, Uri url)
    {
        var trust = options.PinnedSha256 is { } pin ? TlsTrust.Pin(pin) : TlsTrust.Ca(options.CaPem!);
        try
        {
            return TlsConnection.Open(connection, url.Host, trust, timeout);
        }
        catch (SysException e) when (e.Message.StartsWith("TLS: ", StringComparison.Ordinal))
        {
            throw new RegistryException($"{url.Authority}: {e.Message["TLS: ".Length..]}");
        }
        catch (SysException e)
        {
            throw new IOException($"{url.Authority}: {e.Message}", e);
        }
        catch (DllNotFoundException e)
        {
            throw new RegistryException($"{url.Authority}: TLS needs OpenSSL's libssl.so.3 and libcrypto.so.3, which the initramfs carries only when its config has [upgrade] registry_ca or registry_pin ({e.Message})");
        }
    }

    private static void SendRequest(Stream channel, RegistryRequest request)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{request.Method} {request.Url.PathAndQuery} HTTP/1.1\r\nHost: {request.Url.Authority}\r\nConnection: close\r\nUser-Agent: initos\r\n");
        foreach (var (name, value) in request.Headers)
        {
            if (name.Contains('\n', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal))
            {
                throw new ArgumentException($"header {name}: a line break in a header");
            }
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        if (request.Body is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {request.BodyLength}\r\nContent-Type: {request.ContentType ?? "application/octet-stream"}\r\n");
        }
        head.Append("\r\n");
        channel.Write(Encoding.ASCII.GetBytes(head.ToString()));
        if (request.Body is { } open)
        {
            using var body = open();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = body.Read(buffer)) > 0)
            {
                channel.Write(buffer.AsSpan(0, n));
            }
        }
    }

    private static (int Status, string Reason, List<KeyValuePair<string, string>> Headers) ReadHead(Stream stream, Uri url)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        int total = 0;
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new IOException($"{url.Authority}: the connection closed before the answer's headers ended");
            }
            if (++total > LargestHead)
            {
                throw new RegistryException($"{url.Authority}: an answer's headers over {LargestHead} bytes");
            }
            if (b == '\n')
            {
                var text = line.ToString().TrimEnd('\r');
                line.Clear();
                if (text.Length == 0)
                {
                    break;
                }
                lines.Add(text);
                continue;
            }
            line.Append((char)b);
        }
        var statusLine = lines.Count > 0 ? lines[0].Split(' ', 3) : [];
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            throw new RegistryException($"{url.Authority}: not an HTTP/1.x answer (\"{(lines.Count > 0 ? lines[0] : "")}\")");
        }
        var headers = lines.Skip(1).Select(h => h.IndexOf(':', StringComparison.Ordinal) is var colon and > 0
            ? new KeyValuePair<string, string>(h[..colon].Trim(), h[(colon + 1)..].Trim())
            : throw new RegistryException($"{url.Authority}: a malformed header line \"{h}\"")).ToList();
        return (status, statusLine.Length > 2 ? statusLine[2] : "", headers);
    }

    private static long ParseLength(string text, Uri url) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new RegistryException($"{url.Authority}: Content-Length \"{text}\" is not a number");
}

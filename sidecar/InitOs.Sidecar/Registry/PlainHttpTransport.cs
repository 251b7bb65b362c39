using System.Globalization;
using System.Net;
using System.Text;
using InitOs.Sys;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// HTTP/1.1 over one TCP connection per request (Connection: close), to an IPv4 address: the
/// machine's way to a registry the signed config allows over plain HTTP. Bodies are read by
/// Content-Length, chunked transfer coding, or to the end of the connection; headers are
/// bounded (64 KiB). No TLS (the initramfs carries none), no redirects, no DNS (the machine
/// has no resolver): each refused with a message that says so.
/// </summary>
public sealed class PlainHttpTransport(TimeSpan timeout) : IRegistryTransport
{
    private const int LargestHead = 64 * 1024;

    public RegistryAnswer Send(RegistryRequest request)
    {
        var url = request.Url;
        if (url.Scheme != "http")
        {
            throw new RegistryException($"{url.Authority}: the machine reaches registries over plain HTTP only ([upgrade] registry_plain_http); HTTPS needs TLS, which the initramfs does not carry");
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
        try
        {
            SendRequest(connection, request);
            var stream = new ConnectionStream(connection, timeout);
            var (status, reason, headers) = ReadHead(stream, url);
            Stream body = request.Method == "HEAD" || status is 204 or 304 ? Stream.Null
                : headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) ? new ChunkedStream(stream)
                : headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value is { } length ? new LimitedStream(stream, ParseLength(length, url))
                : stream;
            return new RegistryAnswer(status, reason, headers, new OwningStream(body, stream));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
    }

    private static void SendRequest(TcpConnection connection, RegistryRequest request)
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
        Write(connection, Encoding.ASCII.GetBytes(head.ToString()));
        if (request.Body is { } open)
        {
            using var body = open();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = body.Read(buffer)) > 0)
            {
                Write(connection, buffer.AsSpan(0, n));
            }
        }
    }

    private static void Write(TcpConnection connection, ReadOnlySpan<byte> bytes)
    {
        try
        {
            connection.Send(bytes);
        }
        catch (SysException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    private static (int Status, string Reason, List<KeyValuePair<string, string>> Headers) ReadHead(ConnectionStream stream, Uri url)
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

    /// <summary>The connection's bytes, buffered; the end of the connection is the end of the stream.</summary>
    private sealed class ConnectionStream(TcpConnection connection, TimeSpan timeout) : ReadOnlyStream
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _at;
        private int _filled;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_at == _filled)
            {
                try
                {
                    _filled = connection.Receive(_buffer, timeout);
                }
                catch (SysException e)
                {
                    throw new IOException(e.Message, e);
                }
                _at = 0;
                if (_filled == 0)
                {
                    return 0;
                }
            }
            int n = Math.Min(count, _filled - _at);
            Array.Copy(_buffer, _at, buffer, offset, n);
            _at += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            connection.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Exactly <paramref name="length"/> bytes; a connection that ends sooner is an IOException (a resumable break).</summary>
    private sealed class LimitedStream(Stream inner, long length) : ReadOnlyStream
    {
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left == 0)
            {
                return 0;
            }
            int n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            if (n == 0)
            {
                throw new IOException($"the connection closed with {_left} bytes of the body still to come");
            }
            _left -= n;
            return n;
        }
    }

    /// <summary>Transfer-Encoding: chunked (hex sizes, CRLFs, a zero chunk, trailers skipped).</summary>
    private sealed class ChunkedStream(Stream inner) : ReadOnlyStream
    {
        private long _left;
        private bool _done;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_done)
            {
                return 0;
            }
            if (_left == 0)
            {
                var size = Line();
                _left = long.Parse(size.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (_left == 0)
                {
                    while (Line().Length > 0)
                    {
                    }
                    _done = true;
                    return 0;
                }
            }
            int n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            if (n == 0)
            {
                throw new IOException("the connection closed inside a chunk");
            }
            _left -= n;
            if (_left == 0)
            {
                Line();
            }
            return n;
        }

        private string Line()
        {
            var line = new StringBuilder();
            int b;
            while ((b = inner.ReadByte()) >= 0 && b != '\n')
            {
                if (line.Length > 1024)
                {
                    throw new IOException("a chunk header over 1 KiB");
                }
                line.Append((char)b);
            }
            return b < 0 ? throw new IOException("the connection closed inside a chunk header") : line.ToString().TrimEnd('\r');
        }
    }

    /// <summary>The body, whose disposal closes the connection.</summary>
    private sealed class OwningStream(Stream body, Stream connection) : ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count) => body.Read(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            connection.Dispose();
            base.Dispose(disposing);
        }
    }
}

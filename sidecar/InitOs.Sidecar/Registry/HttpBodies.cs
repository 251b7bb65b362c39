using System.Globalization;
using System.Text;

namespace InitOs.Sidecar.Registry;

// The machine's HTTP/1.1 bodies (MachineHttpTransport): by Content-Length, chunked, and the one that closes its connection.

/// <summary>Exactly <paramref name="length"/> bytes; a connection that ends sooner is an IOException (a resumable break).</summary>
internal sealed class LengthBody(Stream inner, long length) : ReadOnlyStream
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
internal sealed class ChunkedBody(Stream inner) : ReadOnlyStream
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
internal sealed class ConnectionBody(Stream body, Stream connection) : ReadOnlyStream
{
    public override int Read(byte[] buffer, int offset, int count) => body.Read(buffer, offset, count);

    protected override void Dispose(bool disposing)
    {
        connection.Dispose();
        base.Dispose(disposing);
    }
}

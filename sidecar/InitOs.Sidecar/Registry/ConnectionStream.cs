using InitOs.Sys;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// A connection of the interop layer, TCP or TLS over TCP, as a two-way Stream, with a timeout on
/// each wait. Its disposal closes the connection.
/// </summary>
internal sealed class ConnectionStream : Stream
{
    private readonly TcpConnection? _tcp;
    private readonly TlsConnection? _tls;
    private readonly TimeSpan _timeout;

    public ConnectionStream(TcpConnection tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _timeout = timeout;
    }

    /// <summary>The TLS session's own waits are bounded by the timeout it was opened with.</summary>
    public ConnectionStream(TlsConnection tls) => _tls = tls;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _tls?.Receive(buffer) ?? _tcp!.Receive(buffer, _timeout);
        }
        catch (SysException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            if (_tls is not null)
            {
                _tls.Send(buffer);
            }
            else
            {
                _tcp!.Send(buffer);
            }
        }
        catch (SysException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_tls is not null)
        {
            _tls.Dispose();
        }
        else
        {
            _tcp!.Dispose();
        }
        base.Dispose(disposing);
    }
}

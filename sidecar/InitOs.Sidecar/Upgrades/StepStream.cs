namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// A write-only stream that writes in whole chunks of <see cref="Chunk"/> bytes (the last one
/// shorter), each a numbered durable step: however ssh delivers the bytes, the same bundle
/// always takes the same steps, so a power-cut harness can name each one.
/// </summary>
internal sealed class StepStream(FileStream file, DurableSteps steps) : Stream
{
    public const int Chunk = 1 << 20;
    private readonly byte[] _pending = new byte[Chunk];
    private int _filled;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => file.Length + _filled;
    public override long Position { get => Length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        while (count > 0)
        {
            int n = Math.Min(count, Chunk - _filled);
            Array.Copy(buffer, offset, _pending, _filled, n);
            (_filled, offset, count) = (_filled + n, offset + n, count - n);
            if (_filled == Chunk)
            {
                WritePending();
            }
        }
    }

    /// <summary>The last, shorter chunk goes when the reader is done with the stream, before the commit's fsync.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _filled > 0)
        {
            WritePending();
        }
        base.Dispose(disposing);
    }

    private void WritePending()
    {
        steps.Write(file, _pending.AsSpan(0, _filled));
        _filled = 0;
    }
}

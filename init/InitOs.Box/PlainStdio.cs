using System.Text;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// Console.Out and Console.Error as plain writers on fds 1 and 2. .NET's own console streams
/// set the terminal up on their first write whenever stdin is a terminal, which sends the
/// keypad-mode sequence ESC[?1h ESC= there (even with stdout and stderr redirected): noise in
/// every caller's terminal and in output others parse (runc's callers, TAP streams). Like
/// .NET's console streams, a write to a reader that has gone (EPIPE) is dropped, not thrown:
/// a program notices its reader left where it waits for it. Reading from the console
/// (Console.In) still goes through .NET's terminal handling.
/// </summary>
internal static class PlainStdio
{
    public static void Install()
    {
        Console.SetOut(Writer(1));
        Console.SetError(Writer(2));
    }

    private static TextWriter Writer(int fd) =>
        TextWriter.Synchronized(new StreamWriter(new FdStream(fd), new UTF8Encoding(false), 4096) { AutoFlush = true });

    /// <summary>Write-only, unbuffered: each write goes to the fd whole (or is dropped when the fd is unusable).</summary>
    private sealed class FdStream(int fd) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => _ = Files.WriteAll(fd, buffer);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

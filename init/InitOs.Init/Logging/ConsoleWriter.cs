using InitOs.Sys;

namespace InitOs.Init.Logging;

/// <summary>
/// Writes to one console device, and survives its hang-ups: when the session that had the
/// terminal as its controlling one ends (an emergency shell, a console service), the kernel
/// hangs the terminal up and every open file of it fails from then on (EIO). A failed write
/// reopens the device once and is tried again. (/dev/console's own files are spared by the
/// kernel; a device opened by name is not.)
/// </summary>
public sealed class ConsoleWriter
{
    private readonly Lock _lock = new();
    private int _fd;

    private ConsoleWriter(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>The device opened for writing; throws <see cref="SysException"/> when it cannot be.</summary>
    public static ConsoleWriter Open(string path) => new(path, OpenForWriting(path));

    /// <summary>A writer on an fd this process already has (fd 1 on /dev/console, which hang-ups spare).</summary>
    public static ConsoleWriter Existing(string path, int fd) => new(path, fd);

    public int Fd => _fd;

    /// <summary>False when even a reopened device would not take the bytes.</summary>
    public bool Write(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (_fd >= 0 && Files.WriteAll(_fd, bytes))
            {
                return true;
            }
            try
            {
                int fresh = OpenForWriting(Path);
                if (_fd > 2)
                {
                    Files.Close(_fd);
                }
                _fd = fresh;
            }
            catch (SysException)
            {
                return false;
            }
            return Files.WriteAll(_fd, bytes);
        }
    }

    private static int OpenForWriting(string path) => Files.Open(path, OpenFlags.WriteOnly | OpenFlags.NoCtty | OpenFlags.CloseOnExec);
}

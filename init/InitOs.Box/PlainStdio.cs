using System.Text;
using Microsoft.Win32.SafeHandles;

namespace InitOs.Box;

/// <summary>
/// Console.Out and Console.Error as plain writers on fds 1 and 2. .NET's own console streams
/// set the terminal up on their first write whenever stdin is a terminal, which sends the
/// keypad-mode sequence ESC[?1h ESC= there (even with stdout and stderr redirected): noise in
/// every caller's terminal and in output others parse (runc's callers, TAP streams). Reading
/// from the console (Console.In) still goes through .NET's terminal handling.
/// </summary>
internal static class PlainStdio
{
    public static void Install()
    {
        Console.SetOut(Writer(1));
        Console.SetError(Writer(2));
    }

    private static TextWriter Writer(int fd)
    {
        var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        return TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(false), 4096) { AutoFlush = true });
    }
}

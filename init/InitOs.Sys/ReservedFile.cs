using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A small file that can still be replaced when its filesystem is full (PID 1's status in a
/// /run that something filled). Its space is taken once, while there is some: the file and a
/// spare of the same reserved size, written through, so their pages exist. Each replacement
/// writes into the spare in place (no new pages), renames it over the file (readers see old or
/// new, whole), and keeps the old file as the next spare through a hard link (no new pages
/// either). The content is padded with spaces to the reserved size: JSON readers skip them;
/// <see cref="ReadText"/> trims them.
/// </summary>
public static class ReservedFile
{
    public const int Block = 64 * 1024;

    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var spare = path + ".spare";
        var previous = path + ".previous";
        // Padded to the spare's whole length: a spare reserved for more keeps no old text past the new.
        int size = Reserve(spare, (content.Length / Block + 1) * Block);
        using (var stream = new FileStream(spare, FileMode.Open, FileAccess.Write))
        {
            stream.Write(content);
            var padding = new byte[size - content.Length];
            padding.AsSpan().Fill((byte)' ');
            padding[^1] = (byte)'\n';
            stream.Write(padding);
        }
        File.Delete(previous);
        bool kept = File.Exists(path) && Libc.Link(path, previous) == 0;
        Check(Libc.Rename(spare, path), $"rename({spare}, {path})");
        if (kept)
        {
            Check(Libc.Rename(previous, spare), $"rename({previous}, {spare})");
        }
        else
        {
            // The first write: the next spare is reserved now, while there is room.
            Reserve(spare, size);
        }
    }

    /// <summary>The file's text without the padding.</summary>
    public static string ReadText(string path) => File.ReadAllText(path).TrimEnd();

    // A spare that is missing or smaller is written through to its size: the only step that needs free space.
    private static int Reserve(string spare, int size)
    {
        if (File.Exists(spare) && new FileInfo(spare).Length is var length && length >= size)
        {
            return (int)length;
        }
        using var stream = new FileStream(spare, FileMode.Create, FileAccess.Write);
        var spaces = new byte[size];
        spaces.AsSpan().Fill((byte)' ');
        stream.Write(spaces);
        return size;
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new IOException($"{what}: {SysException.Describe((Errno)Marshal.GetLastPInvokeError())}");
        }
    }
}

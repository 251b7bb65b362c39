using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A durable replacement of a whole file: write beside it, fsync, rename over it, fsync the
/// directory. A reader (or a power cut) sees the old content or the new, never half of one.
/// </summary>
public static class AtomicFile
{
    public static void WriteText(string path, string text, UnixFileMode? mode = null) =>
        Write(path, Encoding.UTF8.GetBytes(text), mode);

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>fsync of a directory: makes a rename in it durable.</summary>
    public static void SyncDirectory(string directory)
    {
        int fd = Files.Open(directory, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.CloseOnExec);
        try
        {
            if (Libc.Fsync(fd) < 0)
            {
                throw SysException.FromLastError($"fsync({directory})");
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }
}

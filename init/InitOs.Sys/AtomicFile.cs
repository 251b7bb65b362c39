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

    /// <summary>
    /// Puts a finished <paramref name="temporary"/> (written beside <paramref name="path"/>) in its
    /// place durably: fsync its data, rename it over the path, fsync the directory. For outputs a
    /// tool wrote (mkfs, a compressor) rather than bytes in hand.
    /// </summary>
    public static void Replace(string temporary, string path)
    {
        SyncFile(temporary);
        File.Move(temporary, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// fsync of a file by name, on a read-only descriptor (fsync needs no write access). Not a
    /// FileStream: its Flush(flushToDisk) skips the fsync on a stream that cannot write.
    /// </summary>
    public static void SyncFile(string path)
    {
        try
        {
            Sync(path, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        }
        catch (SysException e) when (e.Errno == Errno.ENOENT)
        {
            // What File.Open said before: the workstation tool reports an IOException in one line.
            throw new FileNotFoundException(e.Message, path, e);
        }
    }

    /// <summary>fsync of a directory: makes a rename in it durable.</summary>
    public static void SyncDirectory(string directory) => Sync(directory, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.CloseOnExec);

    private static void Sync(string path, OpenFlags flags)
    {
        int fd = Files.Open(path, flags);
        try
        {
            if (Libc.Fsync(fd) < 0)
            {
                throw SysException.FromLastError($"fsync({path})");
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }
}

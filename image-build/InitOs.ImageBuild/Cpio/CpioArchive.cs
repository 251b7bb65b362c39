using System.Globalization;
using System.Text;

namespace InitOs.ImageBuild.Cpio;

/// <summary>
/// A cpio "newc" archive built in memory and written reproducibly: entries sorted by path,
/// parents before children, owner root, one fixed mtime, inodes numbered in output order.
/// </summary>
public sealed class CpioArchive
{
    private const int TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymlink = 0xA000, TypeCharDevice = 0x2000;

    private sealed record Entry(string Path, int Mode, Func<byte[]> Content, int RdevMajor = 0, int RdevMinor = 0);

    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Paths => _entries.Keys;

    public void AddDirectory(string path, int mode = 0x1ED) =>
        Put(new Entry(Normalize(path), TypeDirectory | (mode & 0xFFF), () => []));

    public void AddFile(string path, byte[] content, int mode = 0x1A4) =>
        Put(new Entry(Normalize(path), TypeRegular | (mode & 0xFFF), () => content));

    /// <summary>Content is read when the archive is written; mode from the source file when not given.</summary>
    public void AddFileFrom(string path, string sourceFile, int? mode = null)
    {
        if (!File.Exists(sourceFile))
        {
            throw new FileNotFoundException($"{sourceFile} (for {path} in the archive) does not exist", sourceFile);
        }
        int bits = mode ?? (int)File.GetUnixFileMode(sourceFile);
        Put(new Entry(Normalize(path), TypeRegular | (bits & 0xFFF), () => File.ReadAllBytes(sourceFile)));
    }

    public void AddSymlink(string path, string target) =>
        Put(new Entry(Normalize(path), TypeSymlink | 0x1FF, () => Encoding.UTF8.GetBytes(target)));

    public void AddCharDevice(string path, int major, int minor, int mode = 0x180) =>
        Put(new Entry(Normalize(path), TypeCharDevice | (mode & 0xFFF), () => [], major, minor));

    private void Put(Entry entry)
    {
        if (entry.Path.Length == 0)
        {
            throw new ArgumentException("an archive entry needs a path");
        }
        _entries[entry.Path] = entry;
    }

    private static string Normalize(string path)
    {
        var p = path.Replace('\\', '/');
        while (p.StartsWith("./", StringComparison.Ordinal) || p.StartsWith('/'))
        {
            p = p.StartsWith('/') ? p[1..] : p[2..];
        }
        return p.TrimEnd('/');
    }

    public void WriteTo(Stream output, long mtime)
    {
        var all = WithParents();
        int inode = 1;
        // Ordinal sort puts "a" before "a/b", so parents precede children.
        foreach (var entry in all.Values)
        {
            var content = entry.Content();
            bool isDir = (entry.Mode & 0xF000) == TypeDirectory;
            WriteHeader(output, entry.Path, entry.Mode, inode++, isDir ? 2 : 1, mtime, content.Length, entry.RdevMajor, entry.RdevMinor);
            output.Write(content);
            Pad(output, content.Length);
        }
        WriteHeader(output, "TRAILER!!!", 0, 0, 1, 0, 0, 0, 0);
    }

    private SortedDictionary<string, Entry> WithParents()
    {
        var all = new SortedDictionary<string, Entry>(_entries, StringComparer.Ordinal);
        foreach (var path in _entries.Keys)
        {
            for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                var parent = path[..slash];
                all.TryAdd(parent, new Entry(parent, TypeDirectory | 0x1ED, () => []));
            }
        }
        return all;
    }

    private static void WriteHeader(Stream output, string name, int mode, int inode, int nlink, long mtime, int size, int rdevMajor, int rdevMinor)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        foreach (long field in new long[] { inode, mode, 0, 0, nlink, mtime, size, 0, 0, rdevMajor, rdevMinor, nameBytes.Length, 0 })
        {
            header.Append(((uint)field).ToString("x8", CultureInfo.InvariantCulture));
        }
        output.Write(Encoding.ASCII.GetBytes(header.ToString()));
        output.Write(nameBytes);
        Pad(output, 110 + nameBytes.Length);
    }

    private static void Pad(Stream output, long written)
    {
        int padding = (int)((4 - written % 4) % 4);
        for (int i = 0; i < padding; i++)
        {
            output.WriteByte(0);
        }
    }
}

using InitOs.Sys;

namespace InitOs.ImageBuild.Oci;

/// <summary>
/// Applies an image's layers, lowest first, onto a directory: the OCI image spec's changeset
/// rules. A ".wh.NAME" entry removes NAME from the layers below; ".wh..wh..opq" in a directory
/// removes everything the layers below put there; an entry over an existing one replaces it
/// (a directory over a directory keeps the contents and takes the new metadata). Every path is
/// resolved with openat2's RESOLVE_IN_ROOT, so a symlink an earlier entry made ("etc -> /")
/// is followed inside the tree, never out of it, and the last component is never followed.
/// Directory times are set at the end, deepest first: creating an entry changes its parent's.
/// </summary>
public sealed class LayerApplier : IDisposable
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    private readonly string _root;
    private readonly int _rootFd;
    private readonly Dictionary<string, (long Seconds, int Nanoseconds)> _directoryTimes = new(StringComparer.Ordinal);
    private HashSet<string> _layerPaths = new(StringComparer.Ordinal);
    private string _layer = "";

    public LayerApplier(string root)
    {
        _root = root;
        _rootFd = FilesAt.Open(-100, root, OpenFlags.PathOnly | OpenFlags.Directory, root);
    }

    public long EntriesApplied { get; private set; }

    /// <summary>Applies one layer's entries; <paramref name="layer"/> names it in errors.</summary>
    public void Apply(LayerTarReader reader, string layer)
    {
        _layer = layer;
        _layerPaths = new HashSet<string>(StringComparer.Ordinal) { "" };
        while (reader.Next() is { } entry)
        {
            if (entry.Name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                Whiteout(entry);
                continue;
            }
            Remember(entry.Path);
            Place(entry, reader);
            EntriesApplied++;
        }
    }

    /// <summary>Sets every directory's recorded time, deepest first.</summary>
    public void Finish()
    {
        foreach (var (path, time) in _directoryTimes.OrderByDescending(d => d.Key.Count(c => c == '/')).ThenByDescending(d => d.Key, StringComparer.Ordinal))
        {
            if (path.Length == 0)
            {
                FilesAt.SetTimes(_rootFd, ".", time.Seconds, time.Nanoseconds, Describe(path));
            }
            else if (TryOpenParent(path, out int parent, out var name))
            {
                using var _ = new FdOwner(parent);
                if (FilesAt.TryStatusAt(parent, name, Describe(path)) is { IsDirectory: true })
                {
                    FilesAt.SetTimes(parent, name, time.Seconds, time.Nanoseconds, Describe(path));
                }
            }
        }
    }

    public void Dispose() => Files.Close(_rootFd);

    private void Whiteout(LayerEntry entry)
    {
        if (!TryOpenParent(entry.Path, out int parent, out var _))
        {
            return;
        }
        using var owner = new FdOwner(parent);
        if (entry.Name == OpaqueMarker)
        {
            RemoveLowerChildren(parent, entry.Parent);
            return;
        }
        var hidden = entry.Name[WhiteoutPrefix.Length..];
        var hiddenPath = Join(entry.Parent, hidden);
        // A whiteout hides what the layers below hold; what this layer put there stays.
        if (hidden.Length > 0 && !_layerPaths.Contains(hiddenPath) && FilesAt.TryStatusAt(parent, hidden, Describe(hiddenPath)) is { } status)
        {
            RemoveTree(parent, hidden, hiddenPath, status);
        }
    }

    /// <summary>An opaque directory: its children from lower layers go; what this layer put there, and their own children from this layer, stay.</summary>
    private void RemoveLowerChildren(int directoryFd, string directory)
    {
        foreach (var child in Children(directoryFd))
        {
            var childPath = Join(directory, child);
            var status = FilesAt.TryStatusAt(directoryFd, child, Describe(childPath));
            if (status is null)
            {
                continue;
            }
            if (!_layerPaths.Contains(childPath))
            {
                RemoveTree(directoryFd, child, childPath, status.Value);
            }
            else if (status.Value.IsDirectory)
            {
                int fd = FilesAt.Open(directoryFd, child, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, Describe(childPath));
                using var owner = new FdOwner(fd);
                RemoveLowerChildren(fd, childPath);
            }
        }
    }

    private void Place(LayerEntry entry, LayerTarReader reader)
    {
        if (entry.Path.Length == 0)
        {
            SetMetadata(_rootFd, ".", entry);
            return;
        }
        int parent = OpenOrMakeParent(entry.Parent);
        using var _ = new FdOwner(parent);
        var what = Describe(entry.Path);
        var existing = FilesAt.TryStatusAt(parent, entry.Name, what);
        if (existing is { } old && !(old.IsDirectory && entry.Type == LayerEntryType.Directory))
        {
            RemoveTree(parent, entry.Name, entry.Path, old);
            existing = null;
        }
        switch (entry.Type)
        {
            case LayerEntryType.Directory:
                if (existing is null)
                {
                    FilesAt.MakeDirectory(parent, entry.Name, what, 0x1C0);
                }
                break;
            case LayerEntryType.File:
                WriteFile(parent, entry, reader, what);
                break;
            case LayerEntryType.Symlink:
                FilesAt.Symlink(entry.LinkName, parent, entry.Name, what);
                break;
            case LayerEntryType.HardLink:
                Link(parent, entry, what);
                return;
            case LayerEntryType.CharDevice:
                FilesAt.MakeNode(parent, entry.Name, FileTypes.CharDevice | 0x180, entry.DevMajor, entry.DevMinor, what);
                break;
            case LayerEntryType.BlockDevice:
                FilesAt.MakeNode(parent, entry.Name, FileTypes.BlockDevice | 0x180, entry.DevMajor, entry.DevMinor, what);
                break;
            case LayerEntryType.Fifo:
                FilesAt.MakeNode(parent, entry.Name, FileTypes.Fifo | 0x180, 0, 0, what);
                break;
        }
        SetMetadata(parent, entry.Name, entry);
    }

    private static void WriteFile(int parent, LayerEntry entry, LayerTarReader reader, string what)
    {
        int fd = FilesAt.Open(parent, entry.Name, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow, what, 0x180);
        using var file = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
        reader.CopyData(file);
    }

    /// <summary>A hard link to an entry placed before it (in this layer or a lower one), found inside the tree.</summary>
    private void Link(int parent, LayerEntry entry, string what)
    {
        var target = string.Join('/', entry.LinkName.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));
        if (target.Length == 0 || !TryOpenParent(target, out int targetParent, out var targetName))
        {
            throw new InvalidDataException($"{what}: a hard link to \"{entry.LinkName}\", which no earlier entry made");
        }
        using var _ = new FdOwner(targetParent);
        if (FilesAt.TryStatusAt(targetParent, targetName, Describe(target)) is not { IsDirectory: false })
        {
            throw new InvalidDataException($"{what}: a hard link to \"{entry.LinkName}\", which is missing or a directory");
        }
        FilesAt.Link(targetParent, targetName, parent, entry.Name, $"{what} => {entry.LinkName}");
    }

    /// <summary>Owner first (chown clears set-id bits), then mode, extended attributes, time.</summary>
    private void SetMetadata(int parent, string name, LayerEntry entry)
    {
        var what = Describe(entry.Path);
        FilesAt.Chown(parent, name, entry.Uid, entry.Gid, what);
        if (entry.Type != LayerEntryType.Symlink)
        {
            FilesAt.ChangeMode(parent, name, entry.Mode, what);
        }
        foreach (var (key, value) in entry.Xattrs.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            Xattrs.Set($"{FilesAt.ProcPath(parent)}/{name}", key, value);
        }
        if (entry.Type == LayerEntryType.Directory)
        {
            _directoryTimes[entry.Path] = (entry.MTimeSeconds, entry.MTimeNanoseconds);
        }
        else
        {
            FilesAt.SetTimes(parent, name, entry.MTimeSeconds, entry.MTimeNanoseconds, what);
        }
    }

    private void RemoveTree(int parent, string name, string path, FileStatus status)
    {
        if (status.IsDirectory)
        {
            int fd = FilesAt.Open(parent, name, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, Describe(path));
            using (new FdOwner(fd))
            {
                foreach (var child in Children(fd))
                {
                    var childPath = Join(path, child);
                    if (FilesAt.TryStatusAt(fd, child, Describe(childPath)) is { } childStatus)
                    {
                        RemoveTree(fd, child, childPath, childStatus);
                    }
                }
            }
            _directoryTimes.Remove(path);
        }
        FilesAt.Remove(parent, name, status.IsDirectory, Describe(path));
    }

    /// <summary>The parent directory of <paramref name="path"/>, made (0755, root's) where an image names a child before its parent.</summary>
    private int OpenOrMakeParent(string parentPath)
    {
        var errno = FilesAt.TryOpenInRoot(_rootFd, parentPath, OpenFlags.PathOnly | OpenFlags.Directory, out int fd);
        if (errno == Errno.None)
        {
            return fd;
        }
        if (errno != Errno.ENOENT || parentPath.Length == 0)
        {
            throw new SysException($"open({Describe(parentPath)})", errno);
        }
        int grandparent = OpenOrMakeParent(parentPath.LastIndexOf('/') is var slash and >= 0 ? parentPath[..slash] : "");
        using (new FdOwner(grandparent))
        {
            var name = parentPath[(parentPath.LastIndexOf('/') + 1)..];
            FilesAt.MakeDirectory(grandparent, name, Describe(parentPath));
            Remember(parentPath);
        }
        errno = FilesAt.TryOpenInRoot(_rootFd, parentPath, OpenFlags.PathOnly | OpenFlags.Directory, out fd);
        return errno == Errno.None ? fd : throw new SysException($"open({Describe(parentPath)})", errno);
    }

    private bool TryOpenParent(string path, out int parent, out string name)
    {
        int slash = path.LastIndexOf('/');
        name = path[(slash + 1)..];
        var errno = FilesAt.TryOpenInRoot(_rootFd, slash < 0 ? "" : path[..slash], OpenFlags.PathOnly | OpenFlags.Directory, out parent);
        return errno switch
        {
            Errno.None => true,
            Errno.ENOENT or Errno.ENOTDIR => false,
            _ => throw new SysException($"open({Describe(path)}'s parent)", errno),
        };
    }

    /// <summary>A path and its ancestors are this layer's: an opaque directory keeps them.</summary>
    private void Remember(string path)
    {
        for (var p = path; p.Length > 0 && _layerPaths.Add(p); p = p.LastIndexOf('/') is var s and >= 0 ? p[..s] : "")
        {
        }
    }

    private static IEnumerable<string> Children(int directoryFd) =>
        Directory.EnumerateFileSystemEntries(FilesAt.ProcPath(directoryFd)).Select(Path.GetFileName).OfType<string>().ToList();

    private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    private string Describe(string path) => $"{_layer}: /{path}";

    private readonly struct FdOwner(int fd) : IDisposable
    {
        public void Dispose() => Files.Close(fd);
    }
}

using InitOs.Jails.Root;
using InitOs.Sys;

namespace InitOs.UnitTests.Jails;

/// <summary>
/// A model filesystem behind <see cref="IRootCalls"/>: paths are host paths, fds name model
/// paths, pivot_root moves the process root. It records every call that changes something,
/// and every time a call would have followed a symlink in a path (the kernel would, and a
/// hostile image chooses where it points): a correct builder leaves <see cref="Followed"/> empty.
/// </summary>
internal sealed class RecordingRootCalls : IRootCalls
{
    private enum Kind { Directory, File, Symlink, CharDevice }

    private sealed record Node(Kind Kind, string? LinkTarget = null, uint Major = 0, uint Minor = 0);

    private readonly Dictionary<string, Node> nodes = new(StringComparer.Ordinal) { ["/"] = new(Kind.Directory) };
    private readonly Dictionary<int, string> fds = [];
    private int nextFd = 3;
    private string root = "/";
    private string cwd = "/";

    public List<string> Calls { get; } = [];

    public List<string> Followed { get; } = [];

    public IReadOnlyCollection<string> OpenFds => fds.Values;

    /// <summary>The calls that change the tree or the process (opens and stats left out).</summary>
    public IEnumerable<string> Mounts => Calls.Where(c => c.StartsWith("mount", StringComparison.Ordinal));

    public void Directory(string path)
    {
        foreach (var parent in Ancestors(path))
        {
            nodes.TryAdd(parent, new Node(Kind.Directory));
        }
        nodes[path] = new Node(Kind.Directory);
    }

    public void File(string path)
    {
        Directory(Parent(path));
        nodes[path] = new Node(Kind.File);
    }

    public void CharDevice(string path, uint major, uint minor)
    {
        Directory(Parent(path));
        nodes[path] = new Node(Kind.CharDevice, Major: major, Minor: minor);
    }

    public void Symlink(string path, string target)
    {
        Directory(Parent(path));
        nodes[path] = new Node(Kind.Symlink, target);
    }

    public Errno TryOpenAt(int dirFd, string name, OpenFlags flags, int mode, out int fd)
    {
        fd = -1;
        var path = Resolve(dirFd, name, followLast: (flags & OpenFlags.NoFollow) == 0);
        if (!nodes.TryGetValue(path, out var node))
        {
            if ((flags & OpenFlags.Create) == 0 || !nodes.ContainsKey(Parent(path)))
            {
                return Errno.ENOENT;
            }
            nodes[path] = node = new Node(Kind.File);
            Calls.Add($"create {path}");
        }
        if ((flags & OpenFlags.Directory) != 0 && node.Kind != Kind.Directory)
        {
            return Errno.ENOTDIR;
        }
        if (node.Kind == Kind.Symlink && (flags & OpenFlags.PathOnly) == 0)
        {
            return Errno.ELOOP; // O_NOFOLLOW on a link, opened for I/O.
        }
        fd = nextFd++;
        fds[fd] = path;
        return Errno.None;
    }

    public void Close(int fd)
    {
        if (!fds.Remove(fd))
        {
            throw new InvalidOperationException($"close({fd}): not open (closed twice?)");
        }
    }

    public void MakeDirectoryAt(int dirFd, string name, string what)
    {
        var path = Resolve(dirFd, name, followLast: false);
        if (nodes.TryAdd(path, new Node(Kind.Directory)))
        {
            Calls.Add($"mkdir {path}");
        }
    }

    public void MakeNodeAt(int dirFd, string name, uint mode, uint major, uint minor, string what)
    {
        var path = Resolve(dirFd, name, followLast: false);
        if (!nodes.TryAdd(path, new Node(Kind.CharDevice, Major: major, Minor: minor)))
        {
            throw new SysException($"mknod({what})", Errno.EEXIST);
        }
        Calls.Add($"mknod {path} {mode & FileTypes.Mask:x} {major}:{minor}");
    }

    public void SymlinkAt(string target, int dirFd, string name, string what)
    {
        var path = Resolve(dirFd, name, followLast: false);
        if (nodes.TryAdd(path, new Node(Kind.Symlink, target)))
        {
            Calls.Add($"symlink {path} -> {target}");
        }
    }

    public void ChownAt(int dirFd, string name, uint uid, uint gid, string what) =>
        Calls.Add($"chown {Resolve(dirFd, name, followLast: false)} {uid}:{gid}");

    public string ReadLink(int fd, string what) => nodes[fds[fd]].LinkTarget ?? throw new SysException($"readlink({what})", Errno.EINVAL);

    public FileStatus StatusOf(int fd, string what)
    {
        var node = nodes[fds[fd]];
        return node.Kind switch
        {
            Kind.Directory => new FileStatus(FileTypes.Directory | 0x1ED, 0, 1, 0, 0, 0),
            Kind.Symlink => new FileStatus(FileTypes.Symlink | 0x1FF, 0, 1, 0, 0, 0),
            Kind.CharDevice => new FileStatus(FileTypes.CharDevice | 0x1B6, 0, 1, node.Major, node.Minor, 0),
            _ => new FileStatus(FileTypes.Regular | 0x1A4, 0, 1, 0, 0, 0),
        };
    }

    public void MoveMount(int treeFd, int targetFd) => Calls.Add($"mount tree-fd-{treeFd} {fds[targetFd]}");

    public void MakeTreeReadOnly(string target) => Calls.Add($"readonly-tree {Target(target)}");

    public void Mount(string? source, string target, string? type, MountFlags flags, string? data)
    {
        var at = Target(target);
        // A source is a path only for binds and remounts; otherwise it is a name ("tmpfs", "proc").
        var from = source is null ? "-" : type is null ? Target(source) : source;
        Calls.Add($"mount {from} {at} {type ?? "-"} {flags}{(data is null ? "" : " " + data)}");
        if ((flags & (MountFlags.Bind | MountFlags.Remount)) == MountFlags.Bind && nodes.TryGetValue(from, out var bound) && bound.Kind != Kind.Directory)
        {
            nodes[at] = bound; // A bound file shows the source's node.
        }
        if (type is not null && type != "overlay" && (flags & MountFlags.Remount) == 0)
        {
            // A new filesystem hides what was below it.
            foreach (var hidden in nodes.Keys.Where(k => k.StartsWith(at + "/", StringComparison.Ordinal)).ToList())
            {
                nodes.Remove(hidden);
            }
        }
    }

    public void Unmount(string target, UnmountFlags flags) => Calls.Add($"umount {Target(target)} {flags}");

    public void PivotRoot(string newRoot, string putOld)
    {
        root = Resolve(IRootCalls.WorkingDirectory, newRoot, followLast: true);
        Calls.Add($"pivot_root {root}");
    }

    public void ChangeDirectory(string path) => cwd = Resolve(IRootCalls.WorkingDirectory, path, followLast: true);

    public void SetHostname(string name) => Calls.Add($"hostname {name}");

    public void WriteFile(string path, string text) => Calls.Add($"write {Resolve(IRootCalls.WorkingDirectory, path, followLast: true)} {text}");

    public bool IsHostFile(string path) => nodes.TryGetValue(path, out var node) && node.Kind == Kind.File;

    public MountFlags LockedMountFlags(string path) => MountFlags.None;

    /// <summary>A mount's source or target: an fd through /proc/self/fd, or a path.</summary>
    private string Target(string path) =>
        path.StartsWith("/proc/self/fd/", StringComparison.Ordinal) && int.TryParse(path["/proc/self/fd/".Length..], out int fd)
            ? fds[fd]
            : Resolve(IRootCalls.WorkingDirectory, path, followLast: true);

    /// <summary>The model path a name reaches from a dirfd; every symlink crossed is noted in <see cref="Followed"/>.</summary>
    private string Resolve(int dirFd, string name, bool followLast)
    {
        string at = name.StartsWith('/') ? root : dirFd == IRootCalls.WorkingDirectory ? cwd : fds[dirFd];
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i] == ".")
            {
                continue;
            }
            at = parts[i] == ".." ? Parent(at) : Join(at, parts[i]);
            if (nodes.TryGetValue(at, out var node) && node.Kind == Kind.Symlink && (i < parts.Length - 1 || followLast))
            {
                Followed.Add($"{at} -> {node.LinkTarget}");
                at = node.LinkTarget!.StartsWith('/') ? Join(root, node.LinkTarget) : Join(Parent(at), node.LinkTarget!);
            }
        }
        return at;
    }

    private static string Join(string directory, string name) =>
        directory == "/" ? "/" + name.TrimStart('/') : directory + "/" + name.TrimStart('/');

    private static string Parent(string path) => path.LastIndexOf('/') is var i and > 0 ? path[..i] : "/";

    private static IEnumerable<string> Ancestors(string path)
    {
        for (var p = Parent(path); p != "/"; p = Parent(p))
        {
            yield return p;
        }
    }
}

using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>
/// Resolves a path inside the jail's root one component at a time from an fd of that root,
/// never following a symlink: an image whose /proc (or any mount target) is a symlink could
/// otherwise point a mount at a place of its choosing (CVE-2019-19921). Returns an O_PATH fd
/// of the last component, which mount(2) then targets through /proc/self/fd.
/// </summary>
public static class RootPath
{
    public enum Create { Nothing, Directories, FileAtEnd }

    private const OpenFlags Place = OpenFlags.PathOnly | OpenFlags.NoFollow;

    /// <summary>The fd, or null when a component is missing and <paramref name="create"/> is Nothing.</summary>
    public static OwnedFd? Open(IRootCalls calls, OwnedFd root, string path, Create create)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Contains(".."))
        {
            throw new InvalidOperationException($"{path}: .. is not allowed in a jail path");
        }
        var current = calls.Open(root, ".", OpenFlags.PathOnly | OpenFlags.Directory, path);
        for (int i = 0; i < parts.Length; i++)
        {
            using var parent = current;
            bool last = i == parts.Length - 1;
            var shown = "/" + string.Join('/', parts[..(i + 1)]);
            if (OpenComponent(calls, parent, parts[i], shown, create, last) is not { } next)
            {
                return null;
            }
            current = Checked(next, shown, last);
        }
        return current;
    }

    private static OwnedFd? OpenComponent(IRootCalls calls, OwnedFd parent, string name, string shown, Create create, bool last)
    {
        var error = calls.TryOpenAt(parent.Number, name, Place, 0, out int fd);
        if (error == Errno.ENOENT && create != Create.Nothing)
        {
            if (last && create == Create.FileAtEnd)
            {
                calls.Open(parent, name, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow, shown, Permissions.Octal0644).Dispose();
            }
            else
            {
                calls.MakeDirectoryAt(parent.Number, name, shown);
            }
            error = calls.TryOpenAt(parent.Number, name, Place, 0, out fd);
        }
        return error switch
        {
            Errno.None => new OwnedFd(calls, fd),
            Errno.ENOENT when create == Create.Nothing => null,
            _ => throw new SysException($"open({shown})", error),
        };
    }

    /// <summary>The component, if it is neither a symlink nor (before the end) a non-directory; closed otherwise.</summary>
    private static OwnedFd Checked(OwnedFd next, string shown, bool last)
    {
        var status = next.Status(shown);
        string? refusal = status.IsSymlink ? $"{shown} is a symlink in the jail's root; InitOS does not follow it for a mount"
            : !last && !status.IsDirectory ? $"{shown} is not a directory"
            : null;
        if (refusal is not null)
        {
            next.Dispose();
            throw new InvalidOperationException(refusal);
        }
        return next;
    }

    /// <summary>At most this many symlinks on one path (the kernel's own limit).</summary>
    private const int MostLinks = 40;

    /// <summary>
    /// Like <see cref="Open"/>, but a symlink on the way is followed inside the jail's root, as if
    /// that root were "/" (an absolute target starts again from it, ".." never climbs above it):
    /// runc's way for ordinary mount destinations. Each step opens a real entry without following;
    /// the result is walked once more with <see cref="Open"/>, so it holds no symlink. Returns the
    /// fd and the path it was found at (for later remounts); null when a component is missing and
    /// <paramref name="create"/> is Nothing.
    /// </summary>
    public static (OwnedFd Fd, string Resolved)? OpenFollowingInRoot(IRootCalls calls, OwnedFd root, string path, Create create)
    {
        var pending = new List<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        if (pending.Contains(".."))
        {
            // Only a symlink's target may climb (and not above the root); the spec's own path may not.
            throw new InvalidOperationException($"{path}: .. is not allowed in a jail path");
        }
        var resolved = new List<string>();
        int links = 0;
        while (pending.Count > 0)
        {
            var name = pending[0];
            pending.RemoveAt(0);
            if (name == "." || (name == ".." && resolved.Count == 0))
            {
                continue;
            }
            if (name == "..")
            {
                // Every resolved component is a real directory: going up by name is going up for real.
                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var shown = "/" + string.Join('/', resolved.Append(name));
            using var parent = Open(calls, root, "/" + string.Join('/', resolved), Create.Nothing)
                ?? throw new InvalidOperationException($"{shown}: its directory went away");
            var error = calls.TryOpenAt(parent.Number, name, Place, 0, out int fd);
            if (error == Errno.ENOENT)
            {
                if (create == Create.Nothing)
                {
                    return null;
                }
                using var made = OpenComponent(calls, parent, name, shown, create, last: pending.Count == 0);
                resolved.Add(name);
                continue;
            }
            if (error != Errno.None)
            {
                throw new SysException($"open({shown})", error);
            }
            using var entry = new OwnedFd(calls, fd);
            var status = entry.Status(shown);
            if (status.IsSymlink)
            {
                if (++links > MostLinks)
                {
                    throw new InvalidOperationException($"{path}: more than {MostLinks} symlinks in the jail's root");
                }
                var target = calls.ReadLink(entry.Number, shown);
                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }
                pending.InsertRange(0, target.Split('/', StringSplitOptions.RemoveEmptyEntries));
                continue;
            }
            if (pending.Count > 0 && !status.IsDirectory)
            {
                throw new InvalidOperationException($"{shown} is not a directory");
            }
            resolved.Add(name);
        }
        var final = "/" + string.Join('/', resolved);
        return Open(calls, root, final, Create.Nothing) is { } opened ? (opened, final) : null;
    }
}

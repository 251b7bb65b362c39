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
}

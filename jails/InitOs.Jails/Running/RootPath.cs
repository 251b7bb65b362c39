using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// Resolves a path inside the jail's root one component at a time from an fd of that root,
/// never following a symlink: an image whose /proc (or any mount target) is a symlink could
/// otherwise point a mount at a place of its choosing (CVE-2019-19921). Returns an O_PATH fd
/// of the last component, which mount(2) then targets through /proc/self/fd.
/// </summary>
public static class RootPath
{
    public enum Create { Nothing, Directories, FileAtEnd }

    /// <summary>The fd, or null when a component is missing and <paramref name="create"/> is Nothing.</summary>
    public static int? Open(int rootFd, string path, Create create)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int current = FilesAt.Open(rootFd, ".", FilesAt.PathOnly | Files.Directory, path);
        for (int i = 0; i < parts.Length; i++)
        {
            bool last = i == parts.Length - 1;
            var shown = "/" + string.Join('/', parts[..(i + 1)]);
            if (parts[i] == "..")
            {
                Files.Close(current);
                throw new InvalidOperationException($"{path}: .. is not allowed in a jail path");
            }
            var error = FilesAt.TryOpen(current, parts[i], FilesAt.PathOnly | FilesAt.NoFollow, out int next);
            if (error == Errno.ENOENT && create != Create.Nothing)
            {
                if (last && create == Create.FileAtEnd)
                {
                    Files.Close(FilesAt.Open(current, parts[i], Files.WriteOnly | FilesAt.Create | FilesAt.NoFollow, shown, 0x1A4));
                }
                else
                {
                    FilesAt.MakeDirectory(current, parts[i], shown);
                }
                error = FilesAt.TryOpen(current, parts[i], FilesAt.PathOnly | FilesAt.NoFollow, out next);
            }
            Files.Close(current);
            if (error == Errno.ENOENT && create == Create.Nothing)
            {
                return null;
            }
            if (error != Errno.None)
            {
                throw new SysException($"open({shown})", error);
            }
            var status = FilesAt.StatusOf(next, shown);
            if (status.IsSymlink)
            {
                Files.Close(next);
                throw new InvalidOperationException($"{shown} is a symlink in the jail's root; InitOS does not follow it for a mount");
            }
            if (!last && !status.IsDirectory)
            {
                Files.Close(next);
                throw new InvalidOperationException($"{shown} is not a directory");
            }
            current = next;
        }
        return current;
    }
}

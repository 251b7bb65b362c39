using InitOs.Sys;

namespace InitOs.Init.Machine;

/// <summary>
/// Resolves a path inside the new root as its own processes will see it: an absolute
/// symlink such as /sbin/init → /lib/systemd/systemd points into the new root, not into
/// the initramfs, so the kernel's resolution from here would be wrong.
/// </summary>
public static class NewRootPaths
{
    private const int MaxLinks = 40;

    public static string Resolve(ISystem system, string newRoot, string path)
    {
        var pending = new Stack<string>(Split(path).Reverse());
        var done = new List<string>();
        int links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == "..")
            {
                if (done.Count > 0) done.RemoveAt(done.Count - 1);
                continue;
            }
            var candidate = Join(newRoot, [.. done, part]);
            var status = system.Status(candidate);
            if (status is { IsSymlink: true })
            {
                if (++links > MaxLinks)
                {
                    throw new SysException($"resolving {path} in {newRoot}: too many symlinks", Errno.ELOOP);
                }
                var target = new FileInfo(candidate).LinkTarget ?? "";
                if (target.StartsWith('/'))
                {
                    done.Clear();
                }
                foreach (var t in Split(target).Reverse())
                {
                    pending.Push(t);
                }
                continue;
            }
            done.Add(part);
        }
        return Join(newRoot, done);
    }

    private static string[] Split(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();

    private static string Join(string root, IEnumerable<string> parts) =>
        root.TrimEnd('/') + "/" + string.Join('/', parts);
}

using InitOs.Sys;

namespace InitOs.Init.Machine;

/// <summary>
/// Frees the initramfs's memory before the hand-off: deletes files depth-first and never
/// descends into a directory on another filesystem (the new root, moved /dev, /proc …),
/// the rule busybox's switch_root and systemd follow.
/// </summary>
public static class TreeRemover
{
    public static void Remove(string root)
    {
        var rootStatus = Files.Status(root) ?? throw new InvalidOperationException($"{root} does not exist");
        foreach (var entry in Directory.EnumerateFileSystemEntries(root))
        {
            RemoveEntry(entry, rootStatus);
        }
    }

    private static void RemoveEntry(string path, FileStatus rootStatus)
    {
        var status = Files.Status(path);
        if (status is null || !status.Value.SameDevice(rootStatus))
        {
            return;
        }
        if (status.Value.IsDirectory)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(path))
            {
                RemoveEntry(entry, rootStatus);
            }
        }
        try
        {
            Files.Remove(path, status.Value.IsDirectory);
        }
        catch (SysException e) when (e.Errno is Errno.EBUSY or Errno.ENOTEMPTY)
        {
            // A directory that still holds a mount point of another filesystem: keep it.
        }
    }
}

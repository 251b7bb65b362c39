using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>The spec's mounts, the masks and the read-only paths: each onto an fd found by <see cref="RootPath"/>.</summary>
public sealed partial class JailRoot
{
    private const MountFlags ReadOnlyRemount = MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly;

    /// <summary>Every jail gets a fresh /proc and a tmpfs /dev, whether or not the spec lists them.</summary>
    internal static IEnumerable<MountStep> WithRequiredMounts(IReadOnlyList<MountStep> mounts)
    {
        var result = mounts.ToList();
        if (!result.Any(m => m.Destination == "/proc" && m.Type == "proc"))
        {
            result.Insert(0, new MountStep("/proc", "proc", "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null, MountFlags.None, false));
        }
        if (!result.Any(m => m.Destination == "/dev"))
        {
            result.Insert(0, new MountStep("/dev", "tmpfs", "tmpfs", MountFlags.NoSuid, "mode=755,size=65536k", MountFlags.None, false));
        }
        // /dev first: mounts below it (pts, shm, mqueue) need it in place.
        return result.OrderBy(m => m.Destination == "/dev" ? 0 : 1);
    }

    private void MountStep(OwnedFd root, MountStep step)
    {
        var create = step.Bind && calls.IsHostFile(step.Source!) ? RootPath.Create.FileAtEnd : RootPath.Create.Directories;
        var (target, destination) = Destination(root, step, create);
        using (target)
        {
            if ((step.Type == "proc" || step.Type == "sysfs") && !target.Status(destination).IsDirectory)
            {
                throw new InvalidOperationException($"{destination} in the jail's root is not a directory");
            }
            if (step.TreeFd is { } tree)
            {
                calls.MoveMount(tree, target.Number);
            }
            else if (step.Bind)
            {
                calls.Mount(step.Source, target.ProcPath, null, MountFlags.Bind | (step.Flags & MountFlags.Recursive), null);
            }
            else
            {
                calls.Mount(step.Source ?? step.Type, target.ProcPath, step.Type, step.Flags, step.Data);
            }
        }
        // A bind ignores the other flags; they take a remount of the new mount (a fresh fd: the old one is under it).
        var rest = step.Flags & ~(MountFlags.Bind | MountFlags.Recursive);
        if (step.Bind && rest != 0)
        {
            // The source mount's nosuid/nodev/noexec/atime flags stay: in a user namespace they are locked.
            Remount(root, destination, MountFlags.Bind | MountFlags.Remount | rest | calls.LockedMountFlags(step.Source!));
        }
        // A read-only recursive bind (the host's cgroup tree, a /dev): read-only all the way down,
        // not only its top mount.
        if (step.Bind && (step.Flags & (MountFlags.Recursive | MountFlags.ReadOnly)) == (MountFlags.Recursive | MountFlags.ReadOnly))
        {
            using var top = RootPath.Open(calls, root, destination, RootPath.Create.Nothing)!;
            calls.MakeTreeReadOnly(top.ProcPath);
        }
        if (step.Propagation != 0)
        {
            Remount(root, destination, step.Propagation);
        }
    }

    /// <summary>
    /// Where a mount goes: /proc and /sys never through a symlink (a hostile image could point the
    /// kernel's own views elsewhere, CVE-2019-19921); other destinations follow symlinks inside the
    /// jail's root, as runc does (never out of it).
    /// </summary>
    private (OwnedFd Fd, string Resolved) Destination(OwnedFd root, MountStep step, RootPath.Create create) =>
        step.Type is "proc" or "sysfs"
            ? (RootPath.Open(calls, root, step.Destination, create)!, step.Destination)
            : RootPath.OpenFollowingInRoot(calls, root, step.Destination, create)!.Value;

    private void Remount(OwnedFd root, string destination, MountFlags flags)
    {
        using var target = RootPath.Open(calls, root, destination, RootPath.Create.Nothing)!;
        calls.Mount(null, target.ProcPath, null, flags, null);
    }

    /// <summary>
    /// Masks against the jail's own /dev/null (made before the pivot), opened without following
    /// links and checked to be the null device: a mask must never bind whatever a symlink there
    /// points at (CVE-2025-31133).
    /// </summary>
    private void MaskAll(IReadOnlyList<string> paths)
    {
        using var root = calls.OpenRoot();
        using var devNull = OpenDevNull(root);
        foreach (var path in paths)
        {
            using var target = RootPath.Open(calls, root, path, RootPath.Create.Nothing);
            if (target is null)
            {
                continue; // Nothing there to hide.
            }
            if (target.Status(path).IsDirectory)
            {
                calls.Mount("tmpfs", target.ProcPath, "tmpfs", MountFlags.ReadOnly, "size=0");
            }
            else
            {
                calls.Mount(devNull.ProcPath, target.ProcPath, null, MountFlags.Bind, null);
            }
        }
    }

    private void MakeReadOnly(string path)
    {
        using var root = calls.OpenRoot();
        using (var target = RootPath.Open(calls, root, path, RootPath.Create.Nothing))
        {
            if (target is null)
            {
                return;
            }
            calls.Mount(target.ProcPath, target.ProcPath, null, MountFlags.Bind | MountFlags.Recursive, null);
        }
        Remount(root, path, ReadOnlyRemount | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.Recursive);
    }
}

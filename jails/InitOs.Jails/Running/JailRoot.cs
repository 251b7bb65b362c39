using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// The jail side of a start, run by jail-init as PID 1 of the new namespaces: make the mount
/// tree a slave of the host's, assemble the root (overlay or bind of the image), mount what the
/// spec asks inside it, build a minimal /dev, pivot_root into it and detach the old root, then
/// mask and write-protect paths, set the hostname and sysctls, and make the root read-only if asked.
/// </summary>
public static class JailRoot
{
    private const ulong MsRdonly = MountOptions.ReadOnly, MsBind = MountOptions.Bind, MsRec = MountOptions.Recursive,
        MsRemount = MountOptions.Remount, MsNoSuid = MountOptions.NoSuid,
        MsNoDev = MountOptions.NoDev, MsNoExec = MountOptions.NoExec;

    public static void Build(JailPlan plan)
    {
        bool userNamespace = (plan.CloneFlags & Namespaces.User) != 0;
        // Host mounts keep flowing in, nothing flows back (and nothing below is seen by the host).
        Mount(null, "/", null, plan.RootPropagation, null);
        AssembleRoot(plan);
        int root = FilesAt.Open(-100, plan.RootMountPoint, FilesAt.PathOnly | Files.Directory, plan.RootMountPoint);
        try
        {
            foreach (var step in WithRequiredMounts(plan.Mounts))
            {
                MountStep(root, step);
            }
            MakeDevices(root, plan.Devices, userNamespace);
            if (plan.Console is { } console)
            {
                BindConsole(root, console);
            }
        }
        finally
        {
            Files.Close(root);
        }
        PivotInto(plan.RootMountPoint);
        // The jail's own /dev/null (made above), opened without following links and checked to be
        // the null device: a mask must never bind whatever a symlink there points at (CVE-2025-31133).
        int devNull = OpenDevNull();
        try
        {
            foreach (var path in plan.MaskedPaths)
            {
                Mask(path, devNull);
            }
        }
        finally
        {
            Files.Close(devNull);
        }
        foreach (var path in plan.ReadonlyPaths)
        {
            MakeReadOnly(path);
        }
        if (plan.Hostname is not null)
        {
            Processes.SetHostname(plan.Hostname);
        }
        foreach (var sysctl in plan.Sysctls)
        {
            File.WriteAllText(sysctl.ProcPath, sysctl.Value);
        }
        if (plan.RootReadonly)
        {
            Mount(null, "/", null, MsBind | MsRemount | MsRdonly, null);
        }
    }

    private static void AssembleRoot(JailPlan plan)
    {
        if (plan.Overlay is { } overlay)
        {
            try
            {
                var lower = plan.IdmapLower ? plan.IdmappedLower : plan.RootfsSource;
                Mount("overlay", plan.RootMountPoint, "overlay", 0, $"lowerdir={lower},upperdir={overlay.Upper},workdir={overlay.Work}");
            }
            catch (SysException e) when (e.Errno == Errno.EACCES && (plan.CloneFlags & Namespaces.User) != 0)
            {
                throw new JailException($"{e.Message}: in a user namespace the overlay is mounted by the jail's root (host uid {plan.UidMap.FirstOrDefault(m => m.Inside == 0)?.Outside}), "
                    + "which needs search permission on every directory above the image, the upper and the work directory");
            }
        }
        else
        {
            Mount(plan.RootfsSource, plan.RootMountPoint, null, MsBind | MsRec, null);
        }
    }

    /// <summary>Every jail gets a fresh /proc and a tmpfs /dev, whether or not the spec lists them.</summary>
    private static IEnumerable<MountStep> WithRequiredMounts(IReadOnlyList<MountStep> mounts)
    {
        var result = mounts.ToList();
        if (!result.Any(m => m.Destination == "/proc" && m.Type == "proc"))
        {
            result.Insert(0, new MountStep("/proc", "proc", "proc", MsNoSuid | MsNoDev | MsNoExec, null, 0, false));
        }
        if (!result.Any(m => m.Destination == "/dev"))
        {
            result.Insert(0, new MountStep("/dev", "tmpfs", "tmpfs", MsNoSuid, "mode=755,size=65536k", 0, false));
        }
        // /dev first: mounts below it (pts, shm, mqueue) need it in place.
        return result.OrderBy(m => m.Destination == "/dev" ? 0 : 1);
    }

    private static void MountStep(int root, MountStep step)
    {
        var create = step.Bind && File.Exists(step.Source) ? RootPath.Create.FileAtEnd : RootPath.Create.Directories;
        int target = RootPath.Open(root, step.Destination, create)!.Value;
        try
        {
            if (step.Type == "proc" || step.Type == "sysfs")
            {
                RequireDirectory(target, step.Destination);
            }
            if (step.Bind)
            {
                Mount(step.Source, FilesAt.ProcPath(target), null, MsBind | (step.Flags & MsRec), null);
                // A bind ignores the other flags; they take a remount of the new mount (a fresh fd: the old one is under it).
                var flags = step.Flags & ~(MsBind | MsRec);
                if (flags != 0)
                {
                    // The source mount's nosuid/nodev/noexec/atime flags stay: in a user namespace they are locked.
                    Remount(root, step.Destination, MsBind | MsRemount | flags | FileSystems.LockedMountFlags(step.Source!));
                }
            }
            else
            {
                Mount(step.Source ?? step.Type, FilesAt.ProcPath(target), step.Type, step.Flags, step.Data);
            }
            if (step.Propagation != 0)
            {
                Remount(root, step.Destination, step.Propagation);
            }
        }
        finally
        {
            Files.Close(target);
        }
    }

    private static void Remount(int root, string destination, ulong flags)
    {
        int fd = RootPath.Open(root, destination, RootPath.Create.Nothing)!.Value;
        try
        {
            Mount(null, FilesAt.ProcPath(fd), null, flags, null);
        }
        finally
        {
            Files.Close(fd);
        }
    }

    private static void RequireDirectory(int fd, string path)
    {
        if (!FilesAt.StatusOf(fd, path).IsDirectory)
        {
            throw new InvalidOperationException($"{path} in the jail's root is not a directory");
        }
    }

    private static void MakeDevices(int root, IReadOnlyList<DeviceNode> devices, bool userNamespace)
    {
        int dev = RootPath.Open(root, "/dev", RootPath.Create.Nothing)!.Value;
        try
        {
            foreach (var device in devices)
            {
                MakeDevice(root, dev, device, userNamespace);
            }
            foreach (var (name, target) in new[] { ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx") })
            {
                FilesAt.Symlink(target, dev, name, "/dev/" + name);
            }
        }
        finally
        {
            Files.Close(dev);
        }
    }

    private static void MakeDevice(int root, int dev, DeviceNode device, bool userNamespace)
    {
        var relative = device.Path["/dev/".Length..];
        if (relative.Contains('/', StringComparison.Ordinal))
        {
            Files.Close(RootPath.Open(root, Path.GetDirectoryName(device.Path)!, RootPath.Create.Directories)!.Value);
        }
        if (userNamespace)
        {
            // mknod is not allowed in a user namespace: bind the host's node onto an empty file.
            int target = RootPath.Open(root, device.Path, RootPath.Create.FileAtEnd)!.Value;
            try
            {
                Mount(device.Path, FilesAt.ProcPath(target), null, MsBind, null);
            }
            finally
            {
                Files.Close(target);
            }
            return;
        }
        uint type = device.Kind switch { 'b' => 0x6000u, 'p' => 0x1000u, _ => 0x2000u };
        FilesAt.MakeNode(dev, relative, type | (device.Mode & 0xFFF), (uint)device.Major, (uint)device.Minor, device.Path);
        FilesAt.Chown(dev, relative, device.Uid, device.Gid, device.Path);
    }

    /// <summary>The host's pty slave bound onto the jail's /dev/console (the host path is still reachable: we have not pivoted yet).</summary>
    private static void BindConsole(int root, string console)
    {
        int target = RootPath.Open(root, "/dev/console", RootPath.Create.FileAtEnd)!.Value;
        try
        {
            Mount(console, FilesAt.ProcPath(target), null, MsBind, null);
        }
        finally
        {
            Files.Close(target);
        }
    }

    private static int OpenDevNull()
    {
        int root = FilesAt.Open(-100, "/", FilesAt.PathOnly | Files.Directory, "/");
        int fd;
        try
        {
            fd = RootPath.Open(root, "/dev/null", RootPath.Create.Nothing) ?? throw new InvalidOperationException("the jail has no /dev/null");
        }
        finally
        {
            Files.Close(root);
        }
        var status = FilesAt.StatusOf(fd, "/dev/null");
        if ((status.Mode & 0xF000) != 0x2000 || status.RdevMajor != 1 || status.RdevMinor != 3)
        {
            Files.Close(fd);
            throw new InvalidOperationException("/dev/null in the jail is not the null device (1:3)");
        }
        return fd;
    }

    /// <summary>
    /// pivot_root(".", "."): the old root ends up stacked on the new one and is detached. Before
    /// the detach the tree is made slave, not private: "." resolves to the new root here, and
    /// private would cut host → jail propagation of its bind mounts; as a slave the old root
    /// (a slave since the start) sends nothing back to the host when it goes.
    /// </summary>
    private static void PivotInto(string newRoot)
    {
        Processes.ChangeDirectory(newRoot);
        Mounts.PivotRoot(".", ".");
        Mount(null, ".", null, MsRec | MountOptions.Slave, null);
        Mounts.Unmount(".", UnmountFlags.Detach);
        Processes.ChangeDirectory("/");
    }

    private static void Mask(string path, int devNull)
    {
        int root = FilesAt.Open(-100, "/", FilesAt.PathOnly | Files.Directory, "/");
        try
        {
            if (RootPath.Open(root, path, RootPath.Create.Nothing) is not { } fd)
            {
                return; // Nothing there to hide.
            }
            try
            {
                if (FilesAt.StatusOf(fd, path).IsDirectory)
                {
                    Mount("tmpfs", FilesAt.ProcPath(fd), "tmpfs", MsRdonly, "size=0");
                }
                else
                {
                    Mount(FilesAt.ProcPath(devNull), FilesAt.ProcPath(fd), null, MsBind, null);
                }
            }
            finally
            {
                Files.Close(fd);
            }
        }
        finally
        {
            Files.Close(root);
        }
    }

    private static void MakeReadOnly(string path)
    {
        int root = FilesAt.Open(-100, "/", FilesAt.PathOnly | Files.Directory, "/");
        try
        {
            if (RootPath.Open(root, path, RootPath.Create.Nothing) is not { } fd)
            {
                return;
            }
            try
            {
                Mount(FilesAt.ProcPath(fd), FilesAt.ProcPath(fd), null, MsBind | MsRec, null);
            }
            finally
            {
                Files.Close(fd);
            }
            Remount(root, path, MsBind | MsRemount | MsRdonly | MsNoSuid | MsNoDev | MsNoExec | MsRec);
        }
        finally
        {
            Files.Close(root);
        }
    }

    private static void Mount(string? source, string target, string? type, ulong flags, string? data) =>
        Mounts.Mount(source, target, type, (MountFlags)flags, data);
}

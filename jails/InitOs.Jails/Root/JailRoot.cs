using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>
/// The jail side of a start, run by jail-init as PID 1 of the new namespaces: make the mount
/// tree a slave of the host's, assemble the root (overlay or bind of the image), mount what the
/// spec asks inside it, build a minimal /dev, pivot_root into it and detach the old root, then
/// mask and write-protect paths, set the hostname and sysctls, and make the root read-only if asked.
/// Every call goes through <see cref="IRootCalls"/>; every fd is an <see cref="OwnedFd"/>.
/// </summary>
public sealed partial class JailRoot(IRootCalls calls)
{
    /// <summary>The root of <paramref name="plan"/>, built with the kernel's calls (jail-init).</summary>
    public static void BuildWithKernel(JailPlan plan) => new JailRoot(new KernelRootCalls()).Build(plan);

    public void Build(JailPlan plan)
    {
        // Host mounts keep flowing in, nothing flows back (and nothing below is seen by the host).
        calls.Mount(null, "/", null, plan.RootPropagation, null);
        AssembleRoot(plan);
        using (var root = calls.Open(null, plan.RootMountPoint, OpenFlags.PathOnly | OpenFlags.Directory, plan.RootMountPoint))
        {
            foreach (var step in WithRequiredMounts(plan.Mounts))
            {
                MountStep(root, step);
            }
            // A /dev bound from the host already has its nodes and links (runc makes none then either).
            if (!plan.Mounts.Any(m => m.Destination.TrimEnd('/') == "/dev" && m.Bind))
            {
                MakeDevices(root, plan.Devices, userNamespace: (plan.CloneFlags & Namespaces.User) != 0);
            }
            if (plan.Console is { } console)
            {
                BindConsole(root, console);
            }
        }
        PivotInto(plan.RootMountPoint);
        MaskAll(plan.MaskedPaths);
        // Before the read-only paths: they usually include /proc/sys.
        foreach (var sysctl in plan.Sysctls)
        {
            calls.WriteFile(sysctl.ProcPath, sysctl.Value);
        }
        foreach (var path in plan.ReadonlyPaths)
        {
            MakeReadOnly(path);
        }
        Finish(plan);
    }

    private void AssembleRoot(JailPlan plan)
    {
        if (plan.Overlay is not { } overlay)
        {
            calls.Mount(plan.RootfsSource, plan.RootMountPoint, null, MountFlags.Bind | MountFlags.Recursive, null);
            return;
        }
        try
        {
            var lower = plan.IdmapLower ? plan.IdmappedLower : plan.RootfsSource;
            calls.Mount("overlay", plan.RootMountPoint, "overlay", MountFlags.None, $"lowerdir={lower},upperdir={overlay.Upper},workdir={overlay.Work}");
        }
        catch (SysException e) when (e.Errno == Errno.EACCES && (plan.CloneFlags & Namespaces.User) != 0)
        {
            throw new JailException($"{e.Message}: in a user namespace the overlay is mounted by the jail's root (host uid {plan.UidMap.FirstOrDefault(m => m.Inside == 0)?.Outside}), "
                + "which needs search permission on every directory above the image, the upper and the work directory");
        }
    }

    /// <summary>
    /// pivot_root(".", "."): the old root ends up stacked on the new one and is detached. Before
    /// the detach the tree is made slave, not private: "." resolves to the new root here, and
    /// private would cut host → jail propagation of its bind mounts; as a slave the old root
    /// (a slave since the start) sends nothing back to the host when it goes.
    /// </summary>
    private void PivotInto(string newRoot)
    {
        calls.ChangeDirectory(newRoot);
        calls.PivotRoot(".", ".");
        calls.Mount(null, ".", null, MountFlags.Recursive | MountFlags.Slave, null);
        calls.Unmount(".", UnmountFlags.Detach);
        calls.ChangeDirectory("/");
    }

    /// <summary>Last: the hostname, the program's working directory (made when missing, as runc does), and the read-only root.</summary>
    private void Finish(JailPlan plan)
    {
        if (plan.Hostname is not null)
        {
            calls.SetHostname(plan.Hostname);
        }
        MakeWorkingDirectory(plan.Process.Cwd);
        if (plan.RootReadonly)
        {
            calls.Mount(null, "/", null, MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly, null);
        }
    }

    /// <summary>
    /// The working directory, made (root's, 0755) when a component is missing; one reached through
    /// a symlink is left to chdir, as the program's user, to accept or refuse.
    /// </summary>
    private void MakeWorkingDirectory(string cwd)
    {
        using var root = calls.Open(null, "/", OpenFlags.PathOnly | OpenFlags.Directory, "/");
        try
        {
            using var existing = RootPath.Open(calls, root, cwd, RootPath.Create.Nothing);
            if (existing is not null)
            {
                return;
            }
        }
        catch (Exception e) when (e is SysException or InvalidOperationException)
        {
            return;
        }
        using var made = RootPath.Open(calls, root, cwd, RootPath.Create.Directories);
    }
}

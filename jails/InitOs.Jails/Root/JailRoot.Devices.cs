using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>The jail's /dev: the spec's device nodes, the standard links, the console, and the null device the masks use.</summary>
public sealed partial class JailRoot
{
    private static readonly (string Name, string Target)[] DevLinks =
    [
        ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"),
    ];

    private void MakeDevices(OwnedFd root, IReadOnlyList<DeviceNode> devices, bool userNamespace)
    {
        using var dev = RootPath.Open(calls, root, "/dev", RootPath.Create.Nothing)!;
        foreach (var device in devices)
        {
            MakeDevice(root, device, userNamespace);
        }
        foreach (var (name, target) in DevLinks)
        {
            calls.SymlinkAt(target, dev.Number, name, "/dev/" + name);
        }
    }

    private void MakeDevice(OwnedFd root, DeviceNode device, bool userNamespace)
    {
        if (userNamespace)
        {
            // mknod is not allowed in a user namespace: bind the host's node onto an empty file.
            using var target = RootPath.Open(calls, root, device.Path, RootPath.Create.FileAtEnd)!;
            calls.Mount(device.Path, target.ProcPath, null, MountFlags.Bind, null);
            return;
        }
        // The node is made in its directory's fd (found without following a link), never through a path.
        using var parent = RootPath.Open(calls, root, Path.GetDirectoryName(device.Path)!, RootPath.Create.Directories)!;
        var name = Path.GetFileName(device.Path);
        uint type = device.Kind switch { 'b' => FileTypes.BlockDevice, 'p' => FileTypes.Fifo, _ => FileTypes.CharDevice };
        calls.MakeNodeAt(parent.Number, name, type | (device.Mode & Permissions.Mask), (uint)device.Major, (uint)device.Minor, device.Path);
        calls.ChownAt(parent.Number, name, device.Uid, device.Gid, device.Path);
    }

    /// <summary>The host's pty slave bound onto the jail's /dev/console (the host path is still reachable: we have not pivoted yet).</summary>
    private void BindConsole(OwnedFd root, string console)
    {
        using var target = RootPath.Open(calls, root, "/dev/console", RootPath.Create.FileAtEnd)!;
        calls.Mount(console, target.ProcPath, null, MountFlags.Bind, null);
    }

    private OwnedFd OpenDevNull(OwnedFd root)
    {
        var fd = RootPath.Open(calls, root, "/dev/null", RootPath.Create.Nothing) ?? throw new InvalidOperationException("the jail has no /dev/null");
        var status = fd.Status("/dev/null");
        if (!status.IsCharDevice || status.RdevMajor != 1 || status.RdevMinor != 3)
        {
            fd.Dispose();
            throw new InvalidOperationException("/dev/null in the jail is not the null device (1:3)");
        }
        return fd;
    }
}

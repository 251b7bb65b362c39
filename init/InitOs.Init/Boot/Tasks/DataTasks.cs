using InitOs.Init.Config;
using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// The data phase: the data volume, read-write at /run/initos/data, with state/ for the
/// sidecar. Under /run it is still mounted, at the same path, after switch_root. It is not
/// signed, so nothing is executed from it (noexec, nosuid, nodev): mode vm runs a verified
/// copy of its kit, and the jail modes' OS images are verified, then run through overlayfs.
/// </summary>
public static class DataTasks
{
    public static void MountData(BootContext context, ISystem system)
    {
        var data = context.RequireSettings().Data ?? throw new BootException("no data volume is configured");
        var device = context.DataDevice ?? throw new BootException($"the data volume {data.Device} was not found");
        var fsType = data.FsType ?? device.Filesystem?.Type
            ?? throw new BootException($"cannot tell the filesystem on data volume {device.DevicePath}: no known superblock; give data.fstype");
        RootTasks.EnsureFilesystem(context, fsType);
        Directory.CreateDirectory(DataConfig.MountPoint);
        system.Mount(device.DevicePath, DataConfig.MountPoint, fsType, MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, data.Options);
        Directory.CreateDirectory(Path.Combine(DataConfig.MountPoint, "state"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        context.Log.Info($"data: {device.DevicePath} on {DataConfig.MountPoint} ({fsType}, rw, noexec{(string.IsNullOrEmpty(data.Options) ? "" : ", " + data.Options)})");
    }
}

using System.Globalization;
using InitOs.ImageBuild.Initramfs;

namespace InitOs.ImageBuild.Rootfs;

/// <summary>
/// An OS tree as one read-only file for a bundle (`initos build bundle --os-image NAME=FILE`),
/// which the jail modes mount as the OS's lower layer: squashfs (gzip, which every kernel that
/// has squashfs reads), owners and times fixed, so the same tree gives the same bytes.
/// </summary>
public static class OsImageFile
{
    public static void Squashfs(string tree, string output, long mtime = 0)
    {
        if (!Directory.Exists(tree))
        {
            throw new ArgumentException($"{tree}: not a directory (the OS tree to pack)");
        }
        var time = mtime.ToString(CultureInfo.InvariantCulture);
        ModuleStoreImage.Run("mksquashfs", tree, output, "-noappend", "-quiet", "-no-progress", "-comp", "gzip",
            "-no-xattrs", "-mkfs-time", time, "-all-time", time);
    }
}

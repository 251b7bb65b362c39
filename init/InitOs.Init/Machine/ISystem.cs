using InitOs.Sys;

namespace InitOs.Init.Machine;

/// <summary>
/// The calls boot tasks make on the machine. The real implementation is a thin pass-through to
/// the interop layer; a recording one lets unit tests check mount and switch_root plans without root.
/// </summary>
public interface ISystem
{
    void Mount(string? source, string target, string? fstype, MountFlags flags, string? data);
    void Unmount(string target, UnmountFlags flags);
    void MakeDirectory(string path, int mode = Permissions.Octal0755);
    void RemoveDirectory(string path);
    FileStatus? Status(string path, bool followSymlinks = false);
    void ChangeDirectory(string path);
    void ChangeRoot(string path);
    void AttachStdio(string consolePath);
    /// <summary>Deletes everything under <paramref name="root"/> that lives on the same filesystem.</summary>
    void RemoveTreeOnOneFilesystem(string root);
    void Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env);
}

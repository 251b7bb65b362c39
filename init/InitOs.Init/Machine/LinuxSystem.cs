using InitOs.Sys;

namespace InitOs.Init.Machine;

/// <summary>The real machine.</summary>
public sealed class LinuxSystem : ISystem
{
    public void Mount(string? source, string target, string? fstype, MountFlags flags, string? data) =>
        Mounts.Mount(source, target, fstype, flags, data);

    public void Unmount(string target, UnmountFlags flags) => Mounts.Unmount(target, flags);

    public void MakeDirectory(string path, int mode = Permissions.Octal0755) => Files.MakeDirectory(path, mode);

    public void RemoveDirectory(string path) => Files.Remove(path, isDirectory: true);

    public FileStatus? Status(string path, bool followSymlinks = false) => Files.Status(path, followSymlinks);

    public void ChangeDirectory(string path) => Processes.ChangeDirectory(path);

    public void ChangeRoot(string path) => Processes.ChangeRoot(path);

    public void AttachStdio(string consolePath) => Terminal.AttachStdio(consolePath);

    public void RemoveTreeOnOneFilesystem(string root) => TreeRemover.Remove(root);

    public void Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env) => Processes.Exec(path, argv, env);
}

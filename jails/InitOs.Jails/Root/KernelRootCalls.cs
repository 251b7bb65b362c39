using System.Runtime.InteropServices;
using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>The root builder's calls, made: each one a call of the interop layer.</summary>
public sealed class KernelRootCalls : IRootCalls
{
    public Errno TryOpenAt(int dirFd, string name, OpenFlags flags, int mode, out int fd) => FilesAt.TryOpen(dirFd, name, flags, out fd, mode);

    public void Close(int fd) => Files.Close(fd);

    public void MakeDirectoryAt(int dirFd, string name, string what) => FilesAt.MakeDirectory(dirFd, name, what);

    public void MakeNodeAt(int dirFd, string name, uint mode, uint major, uint minor, string what) =>
        FilesAt.MakeNode(dirFd, name, mode, major, minor, what);

    public void SymlinkAt(string target, int dirFd, string name, string what) => FilesAt.Symlink(target, dirFd, name, what);

    public void ChownAt(int dirFd, string name, uint uid, uint gid, string what) => FilesAt.Chown(dirFd, name, uid, gid, what);

    public FileStatus StatusOf(int fd, string what) => FilesAt.StatusOf(fd, what);

    public string ReadLink(int fd, string what) => FilesAt.ReadLink(fd, what);

    public void MakeTreeReadOnly(string target) => Mounts.MakeTreeReadOnly(target);

    public void MoveMount(int treeFd, int targetFd) => Mounts.MoveMount(treeFd, targetFd);

    public void Mount(string? source, string target, string? type, MountFlags flags, string? data) =>
        Mounts.Mount(source, target, type, flags, data);

    public void Unmount(string target, UnmountFlags flags) => Mounts.Unmount(target, flags);

    public void PivotRoot(string newRoot, string putOld) => Mounts.PivotRoot(newRoot, putOld);

    public void ChangeDirectory(string path) => Processes.ChangeDirectory(path);

    public void SetHostname(string name) => Processes.SetHostname(name);

    public void WriteFile(string path, string text) => File.WriteAllText(path, text);

    public bool IsHostFile(string path) => File.Exists(path);

    public MountFlags LockedMountFlags(string path) => (MountFlags)FileSystems.LockedMountFlags(path);
}

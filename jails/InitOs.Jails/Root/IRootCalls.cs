using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>
/// Every call the jail root builder makes, and nothing else: the kernel's (<see cref="KernelRootCalls"/>)
/// in jail-init, a recording model of a filesystem in the unit tests, so a bundle's mount plan
/// (hostile rootfs symlinks included) is checked as a sequence of calls without root.
/// </summary>
public interface IRootCalls
{
    /// <summary>The dirfd that makes an *at call resolve from the working directory (AT_FDCWD).</summary>
    public const int WorkingDirectory = -100;

    /// <summary>openat(2); the errno instead of an exception, for the walk that creates what is missing.</summary>
    Errno TryOpenAt(int dirFd, string name, OpenFlags flags, int mode, out int fd);

    void Close(int fd);

    /// <summary>mkdirat(2); an existing entry is not an error (the walk checks what it is).</summary>
    void MakeDirectoryAt(int dirFd, string name, string what);

    void MakeNodeAt(int dirFd, string name, uint mode, uint major, uint minor, string what);

    /// <summary>symlinkat(2); an existing entry is not an error.</summary>
    void SymlinkAt(string target, int dirFd, string name, string what);

    /// <summary>fchownat(2) without following a symlink.</summary>
    void ChownAt(int dirFd, string name, uint uid, uint gid, string what);

    /// <summary>The target of the symlink an O_PATH fd holds (readlinkat(fd, "")).</summary>
    string ReadLink(int fd, string what);

    /// <summary>statx(2) of an open fd, O_PATH fds included, without following.</summary>
    FileStatus StatusOf(int fd, string what);

    void Mount(string? source, string target, string? type, MountFlags flags, string? data);

    void Unmount(string target, UnmountFlags flags);

    /// <summary>Attaches a detached mount tree (an open_tree fd) at target (move_mount).</summary>
    void MoveMount(int treeFd, int targetFd);

    /// <summary>The mount at target and every mount below it read-only (mount_setattr, AT_RECURSIVE).</summary>
    void MakeTreeReadOnly(string target);

    void PivotRoot(string newRoot, string putOld);

    void ChangeDirectory(string path);

    void SetHostname(string name);

    /// <summary>Writes a whole small file (a sysctl under /proc/sys).</summary>
    void WriteFile(string path, string text);

    /// <summary>Whether a host path (a bind source) is a file rather than a directory.</summary>
    bool IsHostFile(string path);

    /// <summary>The flags of the mount a host path lives on that a user namespace cannot clear.</summary>
    MountFlags LockedMountFlags(string path);
}

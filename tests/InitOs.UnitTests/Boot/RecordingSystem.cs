using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.UnitTests.Boot;

/// <summary>An <see cref="ISystem"/> that records calls and answers stat from a table, for plans tested without root.</summary>
internal sealed class RecordingSystem : ISystem
{
    public List<string> Calls { get; } = [];

    /// <summary>Path → status; paths not listed do not exist.</summary>
    public Dictionary<string, FileStatus> Files { get; } = [];

    public void Mount(string? source, string target, string? fstype, MountFlags flags, string? data) =>
        Calls.Add($"mount {source} {target} {fstype ?? "-"} {flags}{(data is null ? "" : " " + data)}");

    public void Unmount(string target, UnmountFlags flags) => Calls.Add($"umount {target} {flags}");

    public void MakeDirectory(string path, int mode = Permissions.Octal0755) => Calls.Add($"mkdir {path}");

    public void RemoveDirectory(string path) => Calls.Add($"rmdir {path}");

    public FileStatus? Status(string path, bool followSymlinks = false) => Files.TryGetValue(path, out var s) ? s : null;

    public void ChangeDirectory(string path) => Calls.Add($"chdir {path}");

    public void ChangeRoot(string path) => Calls.Add($"chroot {path}");

    public void AttachStdio(string consolePath) => Calls.Add($"stdio {consolePath}");

    public void RemoveTreeOnOneFilesystem(string root) => Calls.Add($"rm -rx {root}");

    public void Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env) => Calls.Add($"exec {string.Join(' ', argv)}");

    public static FileStatus Directory(uint dev) => new(0x41ED, 0, dev, 0, 0, 0);

    public static FileStatus Executable(uint dev) => new(0x81ED, 0, dev, 0, 0, 0);
}

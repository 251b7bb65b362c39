using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// A small tmpfs of its own, mounted in a temporary directory: a filesystem whose free space
/// nothing else on the machine touches, so a test can tell whether it was written to.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private readonly TempDirectory _scratch = new("initos-tmpfs-");

    public TmpfsMount(long sizeBytes = 64L << 20)
    {
        Path = _scratch.File("fs");
        Directory.CreateDirectory(Path);
        try
        {
            Mounts.Mount("tmpfs", Path, "tmpfs", MountFlags.None, $"size={sizeBytes}");
        }
        catch
        {
            _scratch.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public long FreeBytes => (long)FileSystems.Status(Path).FreeBytes;

    public void Dispose()
    {
        try
        {
            BtrfsLoop.UnmountEvenIfBusy(Path);
        }
        finally
        {
            _scratch.Dispose();
        }
    }
}

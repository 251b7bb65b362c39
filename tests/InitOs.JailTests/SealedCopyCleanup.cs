using InitOs.Sys;

namespace InitOs.JailTests;

/// <summary>
/// Jails run from read-only copies of the box under /run/initos/sealed, each a bind mount kept
/// until reboot. The tests that start jails share this fixture, which removes the copies the
/// run made when the last of them is done.
/// </summary>
public sealed class SealedCopyCleanup : IDisposable
{
    private const string Directory = "/run/initos/sealed";
    private readonly HashSet<string> _before = Existing();

    private static HashSet<string> Existing() =>
        System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, "initos-*").ToHashSet() : [];

    public void Dispose()
    {
        foreach (var copy in Existing().Except(_before))
        {
            Mounts.Unmount(copy, UnmountFlags.Detach);
            File.Delete(copy);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class JailCollection : ICollectionFixture<SealedCopyCleanup>
{
    public const string Name = "jails";
}

using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.JailTests;

/// <summary>
/// The jail runtime keeps its state under /run/initos: jails/, net/, idranges/ and sealed/ (read-
/// only copies of the box, each a bind mount kept until reboot). The tests that start jails share
/// this fixture, which, when the last of them is done, removes the sealed copies the run made and
/// then every state directory the run created and left empty, so a later run (and the suite's
/// leftovers check) finds the machine as this run found it.
/// </summary>
public sealed class JailHostCleanup : IDisposable
{
    private const string StateRoot = "/run/initos";
    private static readonly string[] StateDirectories = [JailState.Root, JailNetworking.StateDirectory, IdRanges.Directory, JailLauncher.SealedCopies];

    private readonly HashSet<string> _copiesBefore = SealedCopies();
    private readonly HashSet<string> _existedBefore = [.. StateDirectories.Append(StateRoot).Where(Directory.Exists)];

    private static HashSet<string> SealedCopies() =>
        Directory.Exists(JailLauncher.SealedCopies) ? Directory.GetFiles(JailLauncher.SealedCopies, "initos-*").ToHashSet() : [];

    public void Dispose()
    {
        foreach (var copy in SealedCopies().Except(_copiesBefore))
        {
            Mounts.Unmount(copy, UnmountFlags.Detach);
            File.Delete(copy);
        }
        foreach (var directory in StateDirectories.Append(StateRoot).Where(d => !_existedBefore.Contains(d) && Directory.Exists(d)))
        {
            // Lock files are all an idle runtime leaves; anything else is a jail still there: keep it.
            if (Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).All(f => Path.GetFileName(f) == ".lock"))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        EscapeProgram.Delete();
    }
}

[CollectionDefinition(Name)]
public sealed class JailCollection : ICollectionFixture<JailHostCleanup>
{
    public const string Name = "jails";
}

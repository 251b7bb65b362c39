using System.Runtime.CompilerServices;
using InitOs.Sys;

namespace InitOs.JailTests;

/// <summary>
/// Jails run from read-only copies of the box under /run/initos/sealed, each a bind mount kept
/// until reboot; a test run removes the ones it made when the test process ends.
/// </summary>
internal static class SealedCopyCleanup
{
    private static readonly HashSet<string> Before = Existing();

    [ModuleInitializer]
    internal static void Register() => AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveNew();

    private static HashSet<string> Existing() =>
        Directory.Exists("/run/initos/sealed") ? Directory.GetFiles("/run/initos/sealed", "initos-*").ToHashSet() : [];

    private static void RemoveNew()
    {
        foreach (var copy in Existing().Except(Before))
        {
            try
            {
                Mounts.Unmount(copy, UnmountFlags.Detach);
                File.Delete(copy);
            }
            catch (Exception e) when (e is SysException or IOException)
            {
                Console.Error.WriteLine($"could not remove {copy}: {e.Message}");
            }
        }
    }
}

using System.IO.Enumeration;
using InitOs.Init.Logging;

namespace InitOs.Init.Modules;

/// <summary>
/// Loads the modules the present hardware asks for: every `modalias` under /sys/devices
/// matched against modules.alias. Loading a bus driver (virtio_pci) creates new devices
/// (the virtio disk), so it repeats until a round loads nothing new.
/// </summary>
public sealed class Coldplug
{
    private const int MaxRounds = 8;
    private readonly ModuleIndex _index;
    private readonly ModuleLoader _loader;
    private readonly BootLog _log;
    private readonly HashSet<string> _seenAliases = new(StringComparer.Ordinal);

    public Coldplug(ModuleIndex index, ModuleLoader loader, BootLog log)
    {
        _index = index;
        _loader = loader;
        _log = log;
    }

    /// <summary>Runs rounds until nothing new loads; returns the modules inserted.</summary>
    public IReadOnlyList<string> Run(string devicesRoot = "/sys/devices")
    {
        var inserted = new List<string>();
        for (int round = 1; round <= MaxRounds; round++)
        {
            var fresh = ReadNewAliases(devicesRoot);
            int before = inserted.Count;
            foreach (var alias in fresh)
            {
                LoadMatches(alias, inserted);
            }
            if (inserted.Count == before)
            {
                break;
            }
        }
        return inserted;
    }

    private List<string> ReadNewAliases(string devicesRoot)
    {
        var fresh = new List<string>();
        foreach (var file in ModaliasFiles(devicesRoot))
        {
            var alias = TryRead(file);
            if (alias.Length > 0 && _seenAliases.Add(alias))
            {
                fresh.Add(alias);
            }
        }
        return fresh;
    }

    /// <summary>
    /// Every modalias file under the root, never following symlinks: sysfs is full of links
    /// (subsystem, driver, device …) that point back up the tree and would loop forever.
    /// </summary>
    private static FileSystemEnumerable<string> ModaliasFiles(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return new FileSystemEnumerable<string>(root, (ref FileSystemEntry e) => e.ToFullPath(), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && e.FileName.SequenceEqual("modalias"),
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
    }

    private void LoadMatches(string alias, List<string> inserted)
    {
        foreach (var module in _index.MatchAlias(alias))
        {
            if (_loader.IsLoaded(module))
            {
                continue;
            }
            try
            {
                inserted.AddRange(_loader.Load(module));
            }
            catch (Exception e) when (e is ModuleException or IOException)
            {
                // A driver that matched but refused the device is normal during coldplug.
                _log.Warn($"coldplug {alias}: {e.Message}");
            }
        }
    }

    private static string TryRead(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}

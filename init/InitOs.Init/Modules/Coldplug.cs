using System.IO.Enumeration;
using InitOs.Init.Logging;

namespace InitOs.Init.Modules;

/// <summary>
/// Loads the modules the present hardware asks for: every `modalias` under /sys/devices
/// matched against modules.alias. Loading a bus driver (virtio_pci) creates new devices
/// (the virtio disk), so it repeats until a round loads nothing new. The drivers one round
/// finds are loaded in parallel, one per CPU: on a machine with many controllers their
/// probes (disk spin-up, link training) overlap instead of queueing.
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
            var wanted = ReadNewAliases(devicesRoot)
                .SelectMany(alias => _index.MatchAlias(alias).Select(module => (Alias: alias, Module: module)))
                .DistinctBy(match => match.Module)
                .Where(match => !_loader.IsLoaded(match.Module))
                .ToList();
            if (wanted.Count == 0)
            {
                break;
            }
            int before = inserted.Count;
            var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) };
            Parallel.ForEach(wanted, options, match => LoadMatch(match.Alias, match.Module, inserted));
            if (inserted.Count == before)
            {
                break;
            }
        }
        return inserted;
    }

    /// <summary>Every device's modalias under <paramref name="devicesRoot"/>, each once, in name order: what the hardware asks for.</summary>
    public static IReadOnlyList<string> Modaliases(string devicesRoot = "/sys/devices") =>
        ModaliasFiles(devicesRoot).Select(TryRead).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

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
    /// Every modalias file under the root, and every uevent file (some buses, MMC's among them,
    /// give a device's MODALIAS only there), never following symlinks: sysfs is full of links
    /// (subsystem, driver, device …) that point back up the tree and would loop forever.
    /// </summary>
    private static FileSystemEnumerable<string> ModaliasFiles(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return new FileSystemEnumerable<string>(root, (ref FileSystemEntry e) => e.ToFullPath(), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && (e.FileName.SequenceEqual("modalias") || e.FileName.SequenceEqual("uevent")),
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
    }

    private void LoadMatch(string alias, string module, List<string> inserted)
    {
        try
        {
            var loaded = _loader.Load(module);
            lock (inserted)
            {
                inserted.AddRange(loaded);
            }
        }
        catch (Exception e) when (e is ModuleException or IOException)
        {
            // A driver that matched but refused the device is normal during coldplug.
            _log.Warn($"coldplug {alias}: {e.Message}");
        }
    }

    /// <summary>A modalias file's one line, or a uevent file's MODALIAS= line; "" when there is none or it cannot be read.</summary>
    private static string TryRead(string file)
    {
        try
        {
            var text = File.ReadAllText(file);
            if (!file.EndsWith("/uevent", StringComparison.Ordinal))
            {
                return text.Trim();
            }
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("MODALIAS=", StringComparison.Ordinal))
                {
                    return line["MODALIAS=".Length..].Trim();
                }
            }
            return "";
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

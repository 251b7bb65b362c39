using InitOs.Init.Logging;

namespace InitOs.Init.Modules;

/// <summary>
/// Loads the modules the present hardware asks for: every bus device's `modalias` matched
/// against modules.alias. Loading a bus driver (virtio_pci) creates new devices
/// (the virtio disk), so it repeats until a round loads nothing new (or, with the hotplug
/// thread listening, runs once). The drivers one round finds are loaded several at once: on
/// a machine with many controllers their probes (disk spin-up, link training) overlap
/// instead of queueing.
/// </summary>
public sealed class Coldplug
{
    private const int MaxRounds = 8;
    private readonly ModuleIndex _index;
    private readonly ModuleLoader _loader;
    private readonly BootLog _log;
    private readonly HashSet<string> _seenAliases = new(StringComparer.Ordinal);
    private readonly List<string> _skipped = [];

    private readonly HashSet<string> _first;

    /// <param name="first">The config's modules (load and include): the drivers among them load in the first tier.</param>
    public Coldplug(ModuleIndex index, ModuleLoader loader, BootLog log, IEnumerable<string>? first = null)
    {
        _index = index;
        _loader = loader;
        _log = log;
        _first = (first ?? []).Select(ModuleIndex.NormalizeName).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The drivers a stop kept from loading (left to the real OS's device manager).</summary>
    public IReadOnlyList<string> Skipped
    {
        get
        {
            lock (_skipped)
            {
                return [.. _skipped];
            }
        }
    }

    /// <summary>
    /// Runs rounds until nothing new loads (at most <paramref name="rounds"/>: one when a hotplug
    /// thread loads for the devices the loads create); returns the modules inserted. Once
    /// <paramref name="stopRequested"/> says so no new load starts; those under way finish.
    /// </summary>
    /// <param name="enough">Asked between tiers: true when the boot has what it waits for (its
    /// root), so the later tiers are left to the real OS's device manager.</param>
    public IReadOnlyList<string> Run(string sysRoot = "/sys", int rounds = MaxRounds, Func<bool>? stopRequested = null, Func<bool>? enough = null)
    {
        var stop = stopRequested ?? (() => false);
        var inserted = new List<string>();
        for (int round = 1; round <= Math.Min(rounds, MaxRounds) && !stop(); round++)
        {
            var wanted = ReadNewAliases(sysRoot)
                .SelectMany(alias => _index.MatchAlias(alias).Select(module => (Alias: alias, Module: module)))
                .DistinctBy(match => match.Module)
                .Where(match => !_loader.IsLoaded(match.Module))
                .ToList();
            if (wanted.Count == 0)
            {
                break;
            }
            int before = inserted.Count;
            bool first = true;
            foreach (var tier in wanted.GroupBy(match => Priority(match.Alias, match.Module)).OrderBy(g => g.Key))
            {
                if (!first && enough is not null && enough())
                {
                    Skip(tier.Select(match => match.Module));
                    continue;
                }
                first = false;
                LoadAll(tier.ToList(), inserted, stop);
            }
            if (inserted.Count == before)
            {
                break;
            }
        }
        return inserted;
    }

    /// <summary>
    /// The order of a round's tiers of loads (each tier's loads at once, a tier after the one
    /// before it is done). The drivers the config names first: the machine is known to boot
    /// through those, and its root appears sooner without the rest competing for the CPU. Then
    /// the rest outside the store (profile host's drivers for what else the machine has: an IDE
    /// controller's probe, a CD drive), then the store's, for machines the image may meet (each
    /// costs a mount the first time and an xz block). Last the CPU's accelerated crypto and
    /// checksums, which run their self-tests as they load and never hold a root.
    /// </summary>
    private int Priority(string alias, string module) =>
        alias.StartsWith("cpu:", StringComparison.Ordinal) ? 3
        : _first.Contains(module) ? 0
        : _loader.IsOutsideStore(module) ? 1
        : 2;

    /// <summary>
    /// Loads a round's drivers on <see cref="Loaders"/> threads of their own. A load mostly waits
    /// (an IDE channel's probe, a disk's spin-up, a NIC's link), so even one CPU gains from
    /// several at once: the virtio disk need not wait behind the IDE controller. Threads, not
    /// the thread pool, which adds a thread for a blocked one only every half second.
    /// </summary>
    private void LoadAll(List<(string Alias, string Module)> wanted, List<string> inserted, Func<bool> stop)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(string Alias, string Module)>(wanted);
        var threads = Enumerable.Range(0, Math.Min(Loaders, wanted.Count)).Select(i => new Thread(() =>
        {
            while (queue.TryDequeue(out var match))
            {
                if (stop())
                {
                    Skip([match.Module]);
                    continue;
                }
                LoadMatch(match.Alias, match.Module, inserted);
            }
        }) { IsBackground = true, Name = $"coldplug-{i}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
    }

    private void Skip(IEnumerable<string> modules)
    {
        lock (_skipped)
        {
            _skipped.AddRange(modules);
        }
    }

    /// <summary>Loads under way at once: four, or two per CPU on a bigger machine.</summary>
    private static int Loaders => Math.Max(4, 2 * Environment.ProcessorCount);

    /// <summary>Every device's modalias under <paramref name="sysRoot"/>, each once, in name order: what the hardware asks for.</summary>
    public static IReadOnlyList<string> Modaliases(string sysRoot = "/sys") =>
        DeviceAliases(sysRoot).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    private List<string> ReadNewAliases(string sysRoot)
    {
        var fresh = new List<string>();
        foreach (var alias in DeviceAliases(sysRoot))
        {
            if (_seenAliases.Add(alias))
            {
                fresh.Add(alias);
            }
        }
        return fresh;
    }

    /// <summary>
    /// The modalias of every device on a bus: /sys/bus/*/devices/* links to each device once,
    /// the way `udevadm trigger` finds them. A device says what it is in its modalias file, or
    /// (MMC cards among them) only in its uevent's MODALIAS= line. Walking the whole of
    /// /sys/devices would visit every attribute of every device: 10 times the directory reads,
    /// which under emulation is most of coldplug's time.
    /// </summary>
    private static IEnumerable<string> DeviceAliases(string sysRoot)
    {
        foreach (var bus in Entries(Path.Combine(sysRoot, "bus")))
        {
            foreach (var device in Entries(Path.Combine(bus, "devices")))
            {
                var alias = TryRead(Path.Combine(device, "modalias"));
                if (alias.Length == 0)
                {
                    alias = TryRead(Path.Combine(device, "uevent"));
                }
                if (alias.Length > 0)
                {
                    yield return alias;
                }
            }
        }
    }

    /// <summary>A directory's entries in name order; none when it cannot be read (a bus that went away).</summary>
    private static string[] Entries(string directory)
    {
        try
        {
            var entries = Directory.GetFileSystemEntries(directory);
            Array.Sort(entries, StringComparer.Ordinal);
            return entries;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
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
        catch (Exception e)
        {
            // A driver that matched but refused the device is normal during coldplug; and a
            // loader thread of PID 1 must not end with an exception, whatever it meets.
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

namespace InitOs.Init.Modules;

/// <summary>
/// The kernel's module index as depmod writes it: modules.dep (module → its transitive
/// dependencies), modules.alias (glob pattern → module) and modules.builtin. Used by PID 1
/// to load modules and by the build to pick the closure to pack.
/// </summary>
public sealed class ModuleIndex
{
    private readonly Dictionary<string, string> _paths = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _dependencies = new(StringComparer.Ordinal);
    private readonly HashSet<string> _builtin = new(StringComparer.Ordinal);
    private readonly List<string> _depLines = [];
    private readonly List<(string Pattern, string Module)> _aliases = [];
    private readonly Dictionary<string, List<int>> _aliasesByPrefix = new(StringComparer.Ordinal);
    private readonly List<int> _wildcardLeading = [];
    private readonly List<string> _builtinLines = [];
    private readonly Dictionary<string, List<string>> _softPre = new(StringComparer.Ordinal);
    private readonly List<string> _softdepLines = [];

    private ModuleIndex() { }

    public static ModuleIndex Load(string moduleDir)
    {
        var index = new ModuleIndex();
        var depFile = Path.Combine(moduleDir, "modules.dep");
        if (!File.Exists(depFile))
        {
            throw new FileNotFoundException($"{depFile} does not exist (run depmod)", depFile);
        }
        foreach (var line in File.ReadLines(depFile))
        {
            index.AddDependencyLine(line, depFile);
        }
        var aliasFile = Path.Combine(moduleDir, "modules.alias");
        if (File.Exists(aliasFile))
        {
            foreach (var line in File.ReadLines(aliasFile))
            {
                index.AddAliasLine(line);
            }
        }
        var builtinFile = Path.Combine(moduleDir, "modules.builtin");
        if (File.Exists(builtinFile))
        {
            foreach (var line in File.ReadLines(builtinFile).Where(l => l.Length > 0))
            {
                index._builtinLines.Add(line);
                index._builtin.Add(NormalizeName(line));
            }
        }
        var softdepFile = Path.Combine(moduleDir, "modules.softdep");
        if (File.Exists(softdepFile))
        {
            foreach (var line in File.ReadLines(softdepFile))
            {
                index.AddSoftdepLine(line);
            }
        }
        return index;
    }

    /// <summary>
    /// Only modules.alias-format lines (no dependencies): the drivers a build left out
    /// (<see cref="UnpackedAliasFile"/>), to name them when a device has no driver.
    /// </summary>
    public static ModuleIndex AliasesOnly(string aliasFile)
    {
        var index = new ModuleIndex();
        foreach (var line in File.ReadLines(aliasFile))
        {
            index.AddAliasLine(line);
        }
        return index;
    }

    /// <summary>Beside modules.alias in the initramfs: the aliases of the boot-path drivers the build did not pack.</summary>
    public const string UnpackedAliasFile = "modules.alias.unpacked";

    /// <summary>Every modules.alias entry, as (pattern, module).</summary>
    public IEnumerable<(string Pattern, string Module)> Aliases => _aliases;

    /// <summary>"virtio-blk" → "virtio_blk"; "kernel/drivers/block/virtio_blk.ko" → "virtio_blk".</summary>
    public static string NormalizeName(string name)
    {
        var file = name.Contains('/') ? name[(name.LastIndexOf('/') + 1)..] : name;
        foreach (var suffix in new[] { ".ko.zst", ".ko.xz", ".ko.gz", ".ko" })
        {
            if (file.EndsWith(suffix, StringComparison.Ordinal))
            {
                file = file[..^suffix.Length];
                break;
            }
        }
        return file.Replace('-', '_');
    }

    public bool Contains(string name) => _paths.ContainsKey(NormalizeName(name));

    public bool IsBuiltin(string name) => _builtin.Contains(NormalizeName(name));

    /// <summary>Every module file the index knows: name → path relative to the module directory ("kernel/drivers/…").</summary>
    public IEnumerable<KeyValuePair<string, string>> Files => _paths;

    public string PathOf(string name) =>
        _paths.TryGetValue(NormalizeName(name), out var path) ? path : throw Unknown(name);

    public IReadOnlyList<string> LoadOrder(string name, bool includeSoft = true) => LoadOrder([name], includeSoft);

    /// <summary>
    /// Dependencies before dependents, each module once (modules.dep lists the transitive closure).
    /// With <paramref name="includeSoft"/>, the "pre:" soft dependencies of modules.softdep come first too:
    /// ext4 asks the crypto API for crc32c at mount time, which without modprobe only works if it is loaded.
    /// </summary>
    public IReadOnlyList<string> LoadOrder(IEnumerable<string> names, bool includeSoft = true)
    {
        var order = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            Visit(NormalizeName(name), order, seen, new HashSet<string>(StringComparer.Ordinal), includeSoft);
        }
        return order;
    }

    /// <summary>The modules a module's soft "pre:" dependencies name, directly or through aliases.</summary>
    public IReadOnlyList<string> SoftPreDependencies(string name)
    {
        if (!_softPre.TryGetValue(NormalizeName(name), out var wanted))
        {
            return [];
        }
        return wanted.SelectMany(w => Contains(w) ? [NormalizeName(w)] : MatchAlias(w)).Distinct().ToList();
    }

    private void Visit(string module, List<string> order, HashSet<string> done, HashSet<string> inProgress, bool includeSoft)
    {
        if (done.Contains(module) || _builtin.Contains(module) && !_paths.ContainsKey(module))
        {
            return;
        }
        if (!_dependencies.TryGetValue(module, out var deps))
        {
            throw Unknown(module);
        }
        if (!inProgress.Add(module))
        {
            return; // a cycle in modules.dep: the kernel would refuse it too; keep the first visit
        }
        foreach (var dep in includeSoft ? SoftPreDependencies(module).Concat(deps) : deps)
        {
            Visit(dep, order, done, inProgress, includeSoft);
        }
        done.Add(module);
        order.Add(module);
    }

    /// <summary>Modules whose modules.alias pattern (fnmatch: * ? [set] [!set]) matches.</summary>
    public IReadOnlyList<string> MatchAlias(string modalias)
    {
        var result = new List<string>();
        var candidates = _wildcardLeading.AsEnumerable();
        int colon = modalias.IndexOf(':', StringComparison.Ordinal);
        var key = PrefixKey(colon > 0 ? modalias[..colon] : modalias);
        if (_aliasesByPrefix.TryGetValue(key, out var bucket))
        {
            candidates = candidates.Concat(bucket);
        }
        foreach (var i in candidates)
        {
            var (pattern, module) = _aliases[i];
            if (!result.Contains(module) && Glob.Matches(pattern, modalias))
            {
                result.Add(module);
            }
        }
        return result;
    }

    /// <summary>Writes modules.dep, modules.alias and modules.builtin for just <paramref name="modules"/>.</summary>
    public void WriteSubset(IEnumerable<string> modules, string targetDir)
    {
        var keep = modules.Select(NormalizeName).ToHashSet(StringComparer.Ordinal);
        foreach (var module in keep)
        {
            if (!_paths.ContainsKey(module))
            {
                throw Unknown(module);
            }
        }
        var dep = _depLines.Where(l => keep.Contains(NormalizeName(l[..l.IndexOf(':', StringComparison.Ordinal)])));
        var alias = _aliases.Where(a => keep.Contains(a.Module)).Select(a => $"alias {a.Pattern} {a.Module}");
        File.WriteAllLines(Path.Combine(targetDir, "modules.dep"), dep);
        File.WriteAllLines(Path.Combine(targetDir, "modules.alias"), alias);
        File.WriteAllLines(Path.Combine(targetDir, "modules.builtin"), _builtinLines);
        File.WriteAllLines(Path.Combine(targetDir, "modules.softdep"), _softdepLines.Where(l => keep.Contains(NormalizeName(l.Split(' ')[1]))));
    }

    private void AddSoftdepLine(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || words[0] != "softdep")
        {
            return;
        }
        var module = NormalizeName(words[1]);
        if (!_softPre.TryGetValue(module, out var pre))
        {
            _softPre[module] = pre = [];
        }
        bool inPre = false;
        foreach (var word in words.Skip(2))
        {
            if (word.EndsWith(':'))
            {
                inPre = word == "pre:";
            }
            else if (inPre)
            {
                pre.Add(word);
            }
        }
        _softdepLines.Add(line);
    }

    private void AddDependencyLine(string line, string file)
    {
        if (line.Length == 0)
        {
            return;
        }
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new FormatException($"{file}: malformed line \"{line}\"");
        }
        var path = line[..colon];
        var module = NormalizeName(path);
        _paths[module] = path;
        _dependencies[module] = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(NormalizeName).Reverse().ToArray();
        _depLines.Add(line);
    }

    private void AddAliasLine(string line)
    {
        var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || parts[0] != "alias")
        {
            return;
        }
        int index = _aliases.Count;
        _aliases.Add((parts[1], NormalizeName(parts[2])));
        int colon = parts[1].IndexOf(':', StringComparison.Ordinal);
        var head = colon > 0 ? parts[1][..colon] : parts[1];
        if (head.IndexOfAny(['*', '?', '[']) >= 0)
        {
            _wildcardLeading.Add(index);
            return;
        }
        var key = PrefixKey(head);
        if (!_aliasesByPrefix.TryGetValue(key, out var bucket))
        {
            _aliasesByPrefix[key] = bucket = [];
        }
        bucket.Add(index);
    }

    /// <summary>Aliases are bucketed by the bus name before the first ':' ("pci", "virtio", "fs-ext4").</summary>
    private static string PrefixKey(string head) => head;

    private static KeyNotFoundException Unknown(string name) => new($"module {NormalizeName(name)} is not in modules.dep");
}

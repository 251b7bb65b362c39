using InitOs.Sys;

namespace InitOs.Init.Modules;

/// <summary>
/// Loads modules with finit_module, dependencies first. Built-in and already-loaded
/// modules count as loaded; the kernel's own request_module cannot help in an
/// initramfs without modprobe, so everything the boot needs goes through here.
/// Safe to call from several threads (coldplug loads independent drivers at once): the
/// kernel makes a second load of a module that is still coming wait, then say EEXIST.
/// </summary>
public sealed class ModuleLoader
{
    private readonly ModuleIndex _index;
    private readonly string _moduleDir;
    private readonly HashSet<string> _loaded;
    private readonly HashSet<string> _failedSoft = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public ModuleLoader(ModuleIndex index, string moduleDir, IEnumerable<string> alreadyLoaded, ModuleStore? store = null)
    {
        _index = index;
        _moduleDir = moduleDir;
        Store = store;
        _loaded = new HashSet<string>(alreadyLoaded.Select(ModuleIndex.NormalizeName));
    }

    /// <summary>The generic image's squashfs of modules, when it has one.</summary>
    public ModuleStore? Store { get; }

    /// <summary>Whether loading the module needs no store mounted (it is outside it, or there is no store).</summary>
    public bool IsOutsideStore(string name) => Store is null || Store.IsOutside(_index.PathOf(ModuleIndex.NormalizeName(name)));

    public IReadOnlyCollection<string> Loaded
    {
        get
        {
            lock (_lock)
            {
                return [.. _loaded];
            }
        }
    }

    /// <summary>Names of the modules in /proc/modules (loaded before PID 1 or by an earlier phase).</summary>
    public static IEnumerable<string> ReadProcModules(string path = "/proc/modules") =>
        File.Exists(path) ? File.ReadLines(path).Select(l => l.Split(' ')[0]) : [];

    public bool IsLoaded(string name)
    {
        lock (_lock)
        {
            return _loaded.Contains(ModuleIndex.NormalizeName(name));
        }
    }

    /// <summary>Loads a module and what it depends on; returns the modules actually inserted.</summary>
    public IReadOnlyList<string> Load(string name)
    {
        var module = ModuleIndex.NormalizeName(name);
        if (_index.IsBuiltin(module) || IsLoaded(module))
        {
            return [];
        }
        if (!_index.Contains(module))
        {
            throw new ModuleException($"module {module} is neither built into the kernel nor in the initramfs ({_moduleDir}/modules.dep)");
        }
        var hard = _index.LoadOrder(module, includeSoft: false).ToHashSet(StringComparer.Ordinal);
        var inserted = new List<string>();
        foreach (var dependency in _index.LoadOrder(module))
        {
            if (IsLoaded(dependency) || _index.IsBuiltin(dependency))
            {
                continue;
            }
            try
            {
                if (Insert(dependency))
                {
                    inserted.Add(dependency);
                }
            }
            catch (ModuleException) when (!hard.Contains(dependency))
            {
                // A soft dependency is one of several providers (crc32c_intel needs SSE4.2, crc32c_generic does not).
                lock (_lock)
                {
                    _failedSoft.Add(dependency);
                }
            }
        }
        return inserted;
    }

    /// <summary>Soft dependencies that would not load; the hard ones would have failed the load.</summary>
    public IReadOnlyCollection<string> FailedSoftDependencies
    {
        get
        {
            lock (_lock)
            {
                return [.. _failedSoft];
            }
        }
    }

    /// <summary>True when this call inserted it; false when another thread's load of it came first (EEXIST, said once that load is done).</summary>
    private bool Insert(string module)
    {
        var relative = _index.PathOf(module);
        var path = Store?.Resolve(relative, this) ?? Path.Combine(_moduleDir, relative);
        var errno = Kernel.LoadModule(path);
        if (errno is not (Errno.None or Errno.EEXIST))
        {
            throw new ModuleException($"finit_module({path}) for {module}: {SysException.Describe(errno)}");
        }
        lock (_lock)
        {
            _loaded.Add(module);
        }
        return errno == Errno.None;
    }
}

using InitOs.Init.Modules;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// For a device that was not found, what a person at the machine can act on: the modules
/// loaded, the hardware present whose driver the build left out (matched against the aliases
/// it recorded, modules.alias.unpacked), and how to get a shell.
/// </summary>
public static class MissingDrivers
{
    private const int Listed = 5;

    /// <summary>What goes after "not found …": the drivers left out first (the kernel log cuts long lines), then the modules loaded and the way to a shell.</summary>
    public static string Describe(BootContext context, string sysRoot = "/sys")
    {
        var text = new System.Text.StringBuilder();
        var missing = Find(context, sysRoot);
        if (missing.Count > 0)
        {
            var named = missing.Take(Listed).Select(m => $"{string.Join('/', m.Modules)} ({Shorten(m.Alias)})");
            text.Append($"; no driver in this initramfs for {string.Join(", ", named)}");
            if (missing.Count > Listed)
            {
                text.Append($" and {missing.Count - Listed} more devices");
            }
            text.Append(": build it with profile generic, or host for this machine (`initos admin hardware --json`)");
        }
        var loaded = context.Modules?.Loaded.Order(StringComparer.Ordinal).ToList() ?? [];
        text.Append($"; modules loaded: {(loaded.Count == 0 ? "none" : string.Join(' ', loaded))}");
        text.Append("; a shell: on_failure = \"shell\", or initos.break=devices on the command line");
        return text.ToString();
    }

    /// <summary>A PCI modalias up to vendor and device ("pci:v00001000d00000079…"); others whole.</summary>
    private static string Shorten(string alias) => alias.StartsWith("pci:", StringComparison.Ordinal) && alias.Length > 22 ? alias[..22] + "…" : alias;

    /// <summary>Devices no packed module matches and a left-out one does.</summary>
    public static IReadOnlyList<(string Alias, IReadOnlyList<string> Modules)> Find(BootContext context, string sysRoot)
    {
        var file = Path.Combine(ModuleTasks.ModuleDirectory(), ModuleIndex.UnpackedAliasFile);
        if (context.ModuleIndex is not { } packed || !File.Exists(file))
        {
            return [];
        }
        var unpacked = ModuleIndex.AliasesOnly(file);
        return Coldplug.Modaliases(sysRoot)
            .Where(alias => packed.MatchAlias(alias).Count == 0)
            .Select(alias => (alias, unpacked.MatchAlias(alias)))
            .Where(m => m.Item2.Count > 0)
            .ToList();
    }
}

using Tomlyn.Syntax;

namespace InitOs.Init.Config;

/// <summary>
/// Maps the TOML entries onto <see cref="InitosConfig"/>. The schema is a table of
/// key → setter, so an unknown key is simply a key missing from the table.
/// </summary>
public static class ConfigLoader
{
    private delegate InitosConfig Setter(InitosConfig config, TomlEntry entry, string file);

    private static readonly Dictionary<string, Setter> Schema = new()
    {
        ["mode"] = (c, e, f) => c with { Mode = Enum(e, f, ConfigNames.Modes) },
        ["on_failure"] = (c, e, f) => c with { OnFailure = Enum(e, f, ConfigNames.Policies) },
        ["root.device"] = (c, e, f) => c with { Root = c.Root with { Device = NonEmpty(e, f) } },
        ["root.fstype"] = (c, e, f) => c with { Root = c.Root with { FsType = NonEmpty(e, f) } },
        ["root.options"] = (c, e, f) => c with { Root = c.Root with { Options = Str(e, f) } },
        ["root.read_write"] = (c, e, f) => c with { Root = c.Root with { ReadWrite = Bool(e, f) } },
        ["root.wait_seconds"] = (c, e, f) => c with { Root = c.Root with { WaitSeconds = Int(e, f, 0, 3600) } },
        ["root.init"] = (c, e, f) => c with { Root = c.Root with { Init = AbsolutePath(e, f) } },
        ["modules.load"] = (c, e, f) => c with { Modules = c.Modules with { Load = ModuleNames(e, f) } },
        ["modules.include"] = (c, e, f) => c with { Modules = c.Modules with { Include = ModuleNames(e, f) } },
        ["modules.coldplug"] = (c, e, f) => c with { Modules = c.Modules with { Coldplug = Bool(e, f) } },
    };

    public static IEnumerable<string> Keys => Schema.Keys;

    public static InitosConfig Load(string path) => Parse(File.ReadAllText(path), path);

    public static InitosConfig Parse(string text, string file)
    {
        var config = new InitosConfig();
        foreach (var entry in TomlEntries.Parse(text, file))
        {
            if (!Schema.TryGetValue(entry.Key, out var set))
            {
                throw new ConfigException(file, entry.Line, entry.Key, $"unknown key (known keys: {string.Join(", ", Schema.Keys)})");
            }
            config = set(config, entry, file);
        }
        return config;
    }

    private static ConfigException Bad(TomlEntry e, string file, string problem) => new(file, e.Line, e.Key, problem);

    private static string Str(TomlEntry e, string file) =>
        e.Value is StringValueSyntax s ? s.Value ?? "" : throw Bad(e, file, $"expected a string, got {Describe(e.Value)}");

    private static string NonEmpty(TomlEntry e, string file)
    {
        var value = Str(e, file);
        return value.Length > 0 ? value : throw Bad(e, file, "must not be empty");
    }

    private static string AbsolutePath(TomlEntry e, string file)
    {
        var value = Str(e, file);
        return value.StartsWith('/') ? value : throw Bad(e, file, $"expected an absolute path, got \"{value}\"");
    }

    private static bool Bool(TomlEntry e, string file) =>
        e.Value is BooleanValueSyntax b ? b.Value : throw Bad(e, file, $"expected true or false, got {Describe(e.Value)}");

    private static int Int(TomlEntry e, string file, int min, int max)
    {
        if (e.Value is not IntegerValueSyntax i)
        {
            throw Bad(e, file, $"expected an integer, got {Describe(e.Value)}");
        }
        return i.Value >= min && i.Value <= max ? (int)i.Value : throw Bad(e, file, $"{i.Value} is out of range {min}..{max}");
    }

    private static T Enum<T>(TomlEntry e, string file, IReadOnlyDictionary<string, T> names)
    {
        var value = Str(e, file);
        return names.TryGetValue(value, out var parsed)
            ? parsed
            : throw Bad(e, file, $"\"{value}\" is not one of {string.Join(", ", names.Keys)}");
    }

    private static IReadOnlyList<string> ModuleNames(TomlEntry e, string file)
    {
        if (e.Value is not ArraySyntax array)
        {
            throw Bad(e, file, $"expected an array of module names, got {Describe(e.Value)}");
        }
        var names = new List<string>();
        foreach (var item in array.Items)
        {
            if (item.Value is not StringValueSyntax s || string.IsNullOrWhiteSpace(s.Value) || s.Value.Contains('/'))
            {
                throw Bad(e, file, $"expected module names like \"virtio_blk\", got {Describe(item.Value)}");
            }
            names.Add(s.Value);
        }
        return names;
    }

    private static string Describe(SyntaxNode? value) => value switch
    {
        StringValueSyntax s => $"the string \"{s.Value}\"",
        IntegerValueSyntax i => $"the integer {i.Value}",
        BooleanValueSyntax b => b.Value ? "true" : "false",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        null => "nothing",
        _ => value.ToString()?.Trim() ?? "a value",
    };
}

using System.Text.Json;

namespace InitOs.Jails.Oci;

/// <summary>An OCI bundle: a directory with config.json (and usually the rootfs it names).</summary>
public sealed record Bundle(string Directory, OciSpec Spec)
{
    public const string ConfigName = "config.json";

    public string ConfigPath => Path.Combine(Directory, ConfigName);

    /// <summary>Reads and parses the bundle's config.json; errors name the file, line and JSON path.</summary>
    public static Bundle Load(string directory)
    {
        var full = Path.GetFullPath(directory);
        var config = Path.Combine(full, ConfigName);
        if (!File.Exists(config))
        {
            throw new SpecException(config, [$"no {ConfigName} in the bundle directory {full}"]);
        }
        return new Bundle(full, Parse(File.ReadAllText(config), config));
    }

    public static OciSpec Parse(string json, string file)
    {
        try
        {
            return JsonSerializer.Deserialize(json, OciJson.Default.OciSpec)
                ?? throw new SpecException(file, ["the file holds null, not a runtime spec"]);
        }
        catch (JsonException e)
        {
            throw new SpecException(file + (e.LineNumber is { } line ? $":{line + 1}" : ""), [Describe(e)]);
        }
    }

    // System.Text.Json's messages name .NET types; say it in the spec's terms instead.
    private static string Describe(JsonException e)
    {
        var path = e.Path ?? "$";
        const string unmapped = "The JSON property '";
        if (e.Message.StartsWith(unmapped, StringComparison.Ordinal))
        {
            var name = e.Message[unmapped.Length..e.Message.IndexOf('\'', unmapped.Length)];
            var parent = path.EndsWith("." + name, StringComparison.Ordinal) ? path[..^(name.Length + 1)] : path;
            return $"{Field(parent, name)}: not supported by InitOS";
        }
        if (e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return $"{Field(path, null)}: wrong type of value";
        }
        return $"{Field(path, null)}: not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')})";
    }

    private static string Field(string jsonPath, string? child)
    {
        var field = jsonPath == "$" ? "" : jsonPath.TrimStart('$', '.');
        return child is null ? (field.Length == 0 ? "(top level)" : field) : (field.Length == 0 ? child : field + "." + child);
    }
}

/// <summary>A bundle InitOS cannot run; every problem found is listed, each naming its field.</summary>
public sealed class SpecException : Exception
{
    public SpecException(string file, IReadOnlyList<string> problems)
        : base($"{file}: " + string.Join($"\n{file}: ", problems))
    {
        File = file;
        Problems = problems;
    }

    public string File { get; }
    public IReadOnlyList<string> Problems { get; }
}

using System.Text;
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
        var bytes = Encoding.UTF8.GetBytes(json);
        try
        {
            // The deserializer refuses unknown members itself (UnmappedMemberHandling.Disallow);
            // the walk that lists all of them runs only once something is wrong.
            return JsonSerializer.Deserialize(bytes, OciJson.Default.OciSpec)
                ?? throw new SpecException(file, ["the file holds null, not a runtime spec"]);
        }
        catch (JsonException e)
        {
            throw Explain(bytes, file, e);
        }
    }

    private static SpecException Explain(byte[] bytes, string file, JsonException error)
    {
        List<string> unknown;
        try
        {
            unknown = UnknownFields.Find(bytes);
        }
        catch (JsonException e)
        {
            return new SpecException(file + Line(e), [$"{Field(e.Path ?? "$", null)}: not valid JSON"]);
        }
        // One file:line per problem: "config.json:12: hooks: not supported by InitOS".
        return unknown.Count > 0
            ? new SpecException(file, unknown, lineInEach: true)
            : new SpecException(file + Line(error), [$"{Field(error.Path ?? "$", null)}: wrong type of value"]);
    }

    private static string Line(JsonException e) => e.LineNumber is { } line ? $":{line + 1}" : "";

    private static string Field(string jsonPath, string? child)
    {
        var field = jsonPath == "$" ? "" : jsonPath.TrimStart('$', '.');
        return child is null ? (field.Length == 0 ? "(top level)" : field) : (field.Length == 0 ? child : field + "." + child);
    }
}

/// <summary>A bundle InitOS cannot run; every problem found is listed, each naming its field.</summary>
public sealed class SpecException : Exception
{
    /// <param name="lineInEach">The problems start with "LINE: " and are printed as file:LINE: ….</param>
    public SpecException(string file, IReadOnlyList<string> problems, bool lineInEach = false)
        : base(string.Join("\n", problems.Select(p => lineInEach ? $"{file}:{p}" : $"{file}: {p}")))
    {
        File = file;
        Problems = problems;
    }

    public string File { get; }
    public IReadOnlyList<string> Problems { get; }
}

using System.Text;
using System.Text.Json;

namespace InitOs.Jails.Oci;

/// <summary>An OCI bundle: a directory with config.json (and usually the rootfs it names).</summary>
public sealed record Bundle(string Directory, OciSpec Spec)
{
    public const string ConfigName = "config.json";

    public string ConfigPath => Path.Combine(Directory, ConfigName);

    /// <summary>Reads and parses the bundle's config.json; errors name the file, line and JSON path.</summary>
    /// <param name="configFile">crun's --config: the spec from another file (the rootfs still relative to the bundle).</param>
    public static Bundle Load(string directory, string? configFile = null)
    {
        var full = Path.GetFullPath(directory);
        var config = configFile is null ? Path.Combine(full, ConfigName) : Path.GetFullPath(configFile);
        if (!File.Exists(config))
        {
            throw new SpecException(config, [$"no {ConfigName} in the bundle directory {full}"]);
        }
        return new Bundle(full, Parse(File.ReadAllText(config), config));
    }

    /// <summary>Every problem in the file at once, each as file:LINE: field: what is wrong.</summary>
    public static OciSpec Parse(string json, string file)
    {
        var problems = new List<string>();
        var cursor = new JsonCursor(Encoding.UTF8.GetBytes(json), problems);
        OciSpec? spec = null;
        try
        {
            if (!cursor.Start())
            {
                throw new SpecException(file, ["empty, not a runtime spec"]);
            }
            if (!cursor.Object("(top level)") && problems.Count == 0)
            {
                problems.Add($"{cursor.Line}: (top level): null, not a runtime spec");
            }
            else if (problems.Count == 0)
            {
                spec = SpecReader.Spec(ref cursor, "");
                if (!cursor.AtEnd())
                {
                    problems.Add($"{cursor.Line}: (top level): more JSON after the spec's object");
                }
            }
        }
        catch (JsonException e)
        {
            throw new SpecException($"{file}:{e.LineNumber + 1}", ["not valid JSON"]);
        }
        if (problems.Count > 0 || spec is null)
        {
            throw new SpecException(file, problems, lineInEach: true);
        }
        return spec;
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

using System.Text;
using System.Text.Json;

namespace InitOs.Init.Modules;

/// <summary>
/// What one machine's hardware asks of an initramfs: every device's modalias, the modules
/// loaded, the filesystems mounted. `initos admin hardware --json` prints it on the target;
/// `initos build initramfs --hardware FILE` (profile host) packs just what it needs.
/// </summary>
public sealed record HardwareInventory(string Kernel, IReadOnlyList<string> Modaliases, IReadOnlyList<string> Modules, IReadOnlyList<string> Filesystems)
{
    /// <summary>The CPU as microcode files name it: vendor and family-model-stepping in hex ("GenuineIntel 06-8e-09"); "" when unknown.</summary>
    public string Cpu { get; init; } = "";

    /// <summary>This machine, as its /sys and /proc see it now.</summary>
    public static HardwareInventory Take(string sysRoot = "/sys", string procModules = "/proc/modules", string procMounts = "/proc/mounts")
    {
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "";
        var modules = ModuleLoader.ReadProcModules(procModules).Select(ModuleIndex.NormalizeName).Distinct().Order(StringComparer.Ordinal).ToList();
        var filesystems = File.Exists(procMounts)
            ? File.ReadLines(procMounts).Select(l => l.Split(' ')).Where(f => f.Length > 2).Select(f => f[2]).Distinct().Order(StringComparer.Ordinal).ToList()
            : [];
        return new HardwareInventory(kernel, Coldplug.Modaliases(sysRoot), modules, filesystems) { Cpu = CpuOf("/proc/cpuinfo") };
    }

    /// <summary>The first processor's vendor_id, cpu family, model and stepping from /proc/cpuinfo.</summary>
    public static string CpuOf(string cpuinfo)
    {
        if (!File.Exists(cpuinfo))
        {
            return "";
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(cpuinfo).TakeWhile(l => l.Length > 0))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }
        int Number(string key) => fields.TryGetValue(key, out var v) && int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : -1;
        int family = Number("cpu family"), model = Number("model"), stepping = Number("stepping");
        return fields.TryGetValue("vendor_id", out var vendor) && family >= 0 && model >= 0 && stepping >= 0
            ? $"{vendor} {family:x2}-{model:x2}-{stepping:x2}"
            : "";
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("kernel", Kernel);
            json.WriteString("cpu", Cpu);
            WriteList(json, "modaliases", Modaliases);
            WriteList(json, "modules", Modules);
            WriteList(json, "filesystems", Filesystems);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteList(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }

    /// <summary>An inventory file; an error names the file and the field that is wrong.</summary>
    public static HardwareInventory Parse(string text, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source}: expected an object with modaliases, modules and filesystems (from `initos admin hardware --json`)");
            }
            var kernel = root.TryGetProperty("kernel", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
            var cpu = root.TryGetProperty("cpu", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "";
            return new HardwareInventory(kernel, Strings(root, "modaliases", source), Strings(root, "modules", source), Strings(root, "filesystems", source)) { Cpu = cpu };
        }
    }

    private static List<string> Strings(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{source}: \"{name}\" must be an array of strings");
        }
        var values = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            values.Add(item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } value
                ? value
                : throw new InvalidDataException($"{source}: \"{name}\"[{values.Count}] is not a non-empty string"));
        }
        return values;
    }
}

using System.Text.Json;

namespace InitOs.Admin.Rollouts;

public enum HostState
{
    Pending,
    Pinned,
    Running,
    Upgraded,
    Failed,
}

/// <summary>One host's line in the rollout: its wave, state, the version it reported, its last error, when it ran.</summary>
public sealed record HostRecord(string Host, int Wave, HostState State, string? Version = null, string? Error = null, DateTimeOffset? Started = null, DateTimeOffset? Finished = null);

/// <summary>
/// The rollout's state file: what it upgrades to, its waves, and every host's record; written
/// atomically after each change (beside, fsync, rename), so a rollout stopped at any point is
/// resumed by running it again: upgraded and failed hosts stay as they are, the rest go on.
/// </summary>
public sealed class RolloutState
{
    private readonly object _lock = new();

    public RolloutState(string to, string waves, IEnumerable<HostRecord> hosts)
    {
        To = to;
        Waves = waves;
        Hosts = hosts.ToList();
    }

    public string To { get; }

    public string Waves { get; }

    public List<HostRecord> Hosts { get; }

    public bool Halted { get; set; }

    public int Failures => Hosts.Count(h => h.State == HostState.Failed);

    public HostRecord Get(string host)
    {
        lock (_lock)
        {
            return Hosts.First(h => h.Host == host);
        }
    }

    public void Update(string host, Func<HostRecord, HostRecord> change, string? path)
    {
        lock (_lock)
        {
            int i = Hosts.FindIndex(h => h.Host == host);
            Hosts[i] = change(Hosts[i]);
            if (path is not null)
            {
                Save(path);
            }
        }
    }

    public void Save(string path)
    {
        lock (_lock)
        {
            InitOs.Sys.AtomicFile.Write(path, ToJson());
        }
    }

    public byte[] ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("schema", 1);
            json.WriteString("to", To);
            json.WriteString("waves", Waves);
            json.WriteBoolean("halted", Halted);
            json.WriteStartArray("hosts");
            foreach (var h in Hosts)
            {
                json.WriteStartObject();
                json.WriteString("host", h.Host);
                json.WriteNumber("wave", h.Wave);
                json.WriteString("state", h.State.ToString().ToLowerInvariant());
                json.WriteString("version", h.Version);
                json.WriteString("error", h.Error);
                WriteTime(json, "started", h.Started);
                WriteTime(json, "finished", h.Finished);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static RolloutState Load(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("schema").GetInt32() != 1)
            {
                throw new InvalidDataException($"{path}: a rollout state of another schema");
            }
            var hosts = root.GetProperty("hosts").EnumerateArray().Select(h => new HostRecord(
                h.GetProperty("host").GetString()!,
                h.GetProperty("wave").GetInt32(),
                Enum.Parse<HostState>(h.GetProperty("state").GetString()!, ignoreCase: true),
                h.GetProperty("version").GetString(),
                h.GetProperty("error").GetString(),
                ReadTime(h, "started"),
                ReadTime(h, "finished")));
            return new RolloutState(root.GetProperty("to").GetString()!, root.GetProperty("waves").GetString()!, hosts) { Halted = root.GetProperty("halted").GetBoolean() };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a rollout state file ({e.Message})");
        }
    }

    /// <summary>A table: HOST WAVE STATE VERSION and the error; then the counts.</summary>
    public string Table()
    {
        lock (_lock)
        {
            var width = Math.Max(4, Hosts.Max(h => h.Host.Length));
            var lines = new List<string> { $"{"HOST".PadRight(width)}  WAVE  {"STATE",-8}  {"VERSION",-10}  ERROR" };
            lines.AddRange(Hosts.Select(h => $"{h.Host.PadRight(width)}  {h.Wave,4}  {h.State.ToString().ToLowerInvariant(),-8}  {h.Version ?? "-",-10}  {h.Error ?? ""}".TrimEnd()));
            var counts = Enum.GetValues<HostState>().Select(s => (s, n: Hosts.Count(h => h.State == s))).Where(x => x.n > 0).Select(x => $"{x.n} {x.s.ToString().ToLowerInvariant()}");
            lines.Add($"rollout to {To}: {string.Join(", ", counts)}{(Halted ? "; HALTED" : "")}");
            return string.Join('\n', lines);
        }
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            json.WriteString(name, t.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static DateTimeOffset? ReadTime(JsonElement host, string name) =>
        host.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : null;
}

using System.Text.Json;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// A jail's record under /run/initos/jails/ID/state.json: what `initos jail state` prints (the
/// OCI state) plus what InitOS needs to find the jail again. Written by rename, so a reader
/// never sees half a file; it outlives the command that created the jail.
/// </summary>
public sealed record JailState
{
    public string OciVersion { get; init; } = "1.0.2";
    public required string Id { get; init; }
    public required JailStatus Status { get; init; }
    public int Pid { get; init; }
    /// <summary>The process's start time (field 22 of /proc/PID/stat): a reused pid is not this jail.</summary>
    public ulong PidStartTime { get; init; }
    public required string Bundle { get; init; }
    public string Created { get; init; } = "";
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    /// <summary>The pool slot under the jail's overlay, if any: released by run's end or by delete.</summary>
    public Planning.PoolLease? Lease { get; init; }
    /// <summary>The network set up for the jail, if any: freed by run's end or by delete.</summary>
    public Planning.NetworkPlan? Network { get; init; }
    /// <summary>The host id range allocated for the jail, freed by run's end or by delete.</summary>
    public uint? IdRangeStart { get; init; }
    /// <summary>The jail's cgroup directory (cgroup v2 hosts), killed and removed by run's end or by delete.</summary>
    public string? Cgroup { get; init; }

    public const string Root = "/run/initos/jails";

    /// <summary>The directory of records this one lives in (runc's --root; not in the file).</summary>
    public string StateRoot { get; init; } = Root;

    /// <summary>This jail's directory: its record, start fifo and saved plan.</summary>
    public string Directory => DirectoryOf(Id, StateRoot);

    public static string DirectoryOf(string id, string root = Root) => Path.Combine(root, id);

    /// <summary>
    /// Written with Utf8JsonWriter and read with JsonDocument, not the serializer: this is on
    /// every start's path, and the serializer's first use costs milliseconds.
    /// </summary>
    public void Save()
    {
        var path = Path.Combine(Directory, "state.json");
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            WriteOciState(json);
            json.WriteNumber("pidStartTime", PidStartTime);
            json.WriteString("created", Created);
            if (Lease is { } lease)
            {
                json.WriteStartObject("lease");
                json.WriteString("poolDirectory", lease.PoolDirectory);
                json.WriteNumber("slot", lease.Slot);
                json.WriteString("token", lease.Token);
                json.WriteEndObject();
            }
            if (IdRangeStart is { } idRange)
            {
                json.WriteNumber("idRangeStart", idRange);
            }
            if (Cgroup is not null)
            {
                json.WriteString("cgroup", Cgroup);
            }
            if (Network is { } network)
            {
                json.WriteStartObject("network");
                json.WriteNumber("mode", (int)network.Mode);
                json.WriteString("bridge", network.Bridge);
                json.WriteString("subnet", network.Subnet);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The record of jail <paramref name="id"/>, or null if there is none.</summary>
    public static JailState? Load(string id, string root = Root)
    {
        var path = Path.Combine(DirectoryOf(id, root), "state.json");
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return FromJson(document.RootElement) with { StateRoot = root };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new JailException($"jail {id}: {path} is damaged ({e.GetType().Name})");
        }
    }

    private static JailState FromJson(JsonElement json)
    {
        string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new JailState
        {
            OciVersion = Text(json, "ociVersion") ?? "1.0.2",
            Id = json.GetProperty("id").GetString()!,
            Status = JailLifecycle.Parse(json.GetProperty("status").GetString()!),
            Pid = json.GetProperty("pid").GetInt32(),
            PidStartTime = json.GetProperty("pidStartTime").GetUInt64(),
            Bundle = json.GetProperty("bundle").GetString()!,
            Created = Text(json, "created") ?? "",
            Annotations = json.TryGetProperty("annotations", out var annotations)
                ? annotations.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal)
                : new Dictionary<string, string>(),
            Lease = json.TryGetProperty("lease", out var lease)
                ? new Planning.PoolLease(lease.GetProperty("poolDirectory").GetString()!, lease.GetProperty("slot").GetInt32(), lease.GetProperty("token").GetString()!)
                : null,
            Network = json.TryGetProperty("network", out var network)
                ? new Planning.NetworkPlan((Network.NetworkMode)network.GetProperty("mode").GetInt32(), network.GetProperty("bridge").GetString()!, network.GetProperty("subnet").GetString()!)
                : null,
            IdRangeStart = json.TryGetProperty("idRangeStart", out var range) ? range.GetUInt32() : null,
            Cgroup = Text(json, "cgroup"),
        };
    }

    /// <summary>The OCI state document (runtime-spec "State") that `initos jail state` prints.</summary>
    public string OciStateJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            WriteOciState(json);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The members of the runtime-spec state, which state.json holds too.</summary>
    private void WriteOciState(Utf8JsonWriter json)
    {
        json.WriteString("ociVersion", OciVersion);
        json.WriteString("id", Id);
        json.WriteString("status", JailLifecycle.Name(Status));
        json.WriteNumber("pid", Pid);
        json.WriteString("bundle", Bundle);
        json.WriteStartObject("annotations");
        foreach (var (key, value) in Annotations)
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();
    }

    /// <summary>The status now: stopped once the jail's init is gone (or its pid belongs to another process).</summary>
    public JailState Refreshed() => Status is JailStatus.Created or JailStatus.Running && !IsAlive() ? this with { Status = JailStatus.Stopped } : this;

    private bool IsAlive() => Pid > 0 && ProcStat.Read(Pid) is { Ended: false } process && process.StartTime == PidStartTime;

    public static ulong? ProcessStartTime(int pid) => ProcStat.Read(pid)?.StartTime;

    public static IEnumerable<string> AllIds(string root = Root) =>
        System.IO.Directory.Exists(root) ? System.IO.Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal) : [];
}

using System.Globalization;
using System.Text.Json;
using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// PID 1 publishes the services' status as JSON in /run/initos/services.json; `initos services`
/// and the admin door read it. Written as a <see cref="ReservedFile"/>: a reader never sees half
/// of it, and it stays true when /run is full (its space was taken at the first write).
/// </summary>
public static class StatusFile
{
    public const string DefaultPath = "/run/initos/services.json";

    public static void Write(IEnumerable<ServiceStatus> services, long orphansReaped, string path = DefaultPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("orphans_reaped", orphansReaped);
            json.WriteStartArray("services");
            foreach (var s in services)
            {
                json.WriteStartObject();
                json.WriteString("name", s.Name);
                json.WriteString("state", s.State.ToString().ToLowerInvariant());
                json.WriteNumber("pid", s.Pid);
                json.WriteNumber("starts", s.Starts);
                json.WriteString("last_exit", s.LastExit);
                json.WriteNumber("started_at_uptime", Math.Round(s.StartedAtUptime, 3));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        ReservedFile.Replace(path, buffer.WrittenSpan);
    }

    /// <summary>The JSON as published (without the reserve's padding).</summary>
    public static string Read(string path = DefaultPath) => ReservedFile.ReadText(path);

    /// <summary>One service's pid, starts and state, or null when there is no status file or no such service.</summary>
    public static ServiceRow? Find(string name, string path = DefaultPath)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        using var document = JsonDocument.Parse(Read(path));
        foreach (var service in document.RootElement.GetProperty("services").EnumerateArray())
        {
            if (service.GetProperty("name").GetString() == name)
            {
                return new ServiceRow(service.GetProperty("pid").GetInt32(), service.GetProperty("starts").GetInt32(), service.GetProperty("state").GetString() ?? "");
            }
        }
        return null;
    }

    /// <summary>A table for people: one line per service.</summary>
    public static string Table(string path = DefaultPath)
    {
        using var document = JsonDocument.Parse(Read(path));
        var lines = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{"SERVICE",-16} {"STATE",-10} {"PID",7} {"STARTS",6}  LAST EXIT") };
        foreach (var s in document.RootElement.GetProperty("services").EnumerateArray())
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s.GetProperty("name").GetString(),-16} {s.GetProperty("state").GetString(),-10} {s.GetProperty("pid").GetInt32(),7} {s.GetProperty("starts").GetInt32(),6}  {s.GetProperty("last_exit").GetString()}"));
        }
        lines.Add($"orphans reaped by PID 1: {document.RootElement.GetProperty("orphans_reaped").GetInt64()}");
        return string.Join('\n', lines);
    }
}

/// <summary>A service as the status file has it.</summary>
public readonly record struct ServiceRow(int Pid, int Starts, string State);

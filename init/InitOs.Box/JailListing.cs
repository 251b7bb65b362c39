using System.Globalization;
using System.Text.Json;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>`initos jail list` and `ps`, in runc's formats (a table, or JSON for programs such as podman).</summary>
internal static class JailListing
{
    public static int List(string[] args, string root)
    {
        var (format, rest) = Format(args);
        bool quiet = rest.RemoveAll(a => a is "-q" or "--quiet") > 0;
        if (rest.Count > 0)
        {
            throw new JailUsageException($"list: unexpected argument '{rest[0]}'");
        }
        var states = Jail.All(root).Select(j => j.State).ToList();
        if (quiet)
        {
            states.ForEach(s => Console.WriteLine(s.Id));
        }
        else if (format == "json")
        {
            Console.WriteLine(Json(json =>
            {
                json.WriteStartArray();
                foreach (var state in states)
                {
                    json.WriteStartObject();
                    json.WriteString("ociVersion", state.OciVersion);
                    json.WriteString("id", state.Id);
                    json.WriteNumber("pid", state.Refreshed().Status == JailStatus.Stopped ? 0 : state.Pid);
                    json.WriteString("status", JailLifecycle.Name(state.Status));
                    json.WriteString("bundle", state.Bundle);
                    json.WriteString("created", state.Created);
                    json.WriteString("owner", "root");
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }));
        }
        else
        {
            Console.WriteLine($"{"ID",-24} {"PID",8} {"STATUS",-9} {"BUNDLE",-40} CREATED");
            foreach (var state in states)
            {
                Console.WriteLine($"{state.Id,-24} {state.Pid,8} {JailLifecycle.Name(state.Status),-9} {state.Bundle,-40} {state.Created}");
            }
        }
        return 0;
    }

    /// <summary>The jail's processes: those in its cgroup (and the cgroups under it), else those in its pid namespace.</summary>
    public static int Ps(string[] args, string root)
    {
        var (format, rest) = Format(args);
        if (rest.Count != 1)
        {
            throw new JailUsageException("ps takes [--format table|json] ID");
        }
        var state = Jail.Open(rest[0], root).State;
        if (state.Status != JailStatus.Running && state.Status != JailStatus.Created)
        {
            throw new JailException($"jail {state.Id} is {JailLifecycle.Name(state.Status)}: no processes");
        }
        var pids = JailProcesses.Of(state);
        if (format == "json")
        {
            Console.WriteLine(Json(json =>
            {
                json.WriteStartArray();
                pids.ForEach(json.WriteNumberValue);
                json.WriteEndArray();
            }));
            return 0;
        }
        Console.WriteLine($"{"UID",6} {"PID",8} {"PPID",8} CMD");
        foreach (var pid in pids)
        {
            if (JailProcesses.Describe(pid) is { } process)
            {
                Console.WriteLine($"{process.Uid,6} {pid,8} {process.ParentPid,8} {process.Command}");
            }
        }
        return 0;
    }

    private static (string Format, List<string> Others) Format(string[] args)
    {
        var rest = new List<string>();
        string format = "table";
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--format" or "-f" && i + 1 < args.Length)
            {
                format = args[++i];
            }
            else if (args[i].StartsWith("--format=", StringComparison.Ordinal))
            {
                format = args[i]["--format=".Length..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }
        return format is "table" or "json" ? (format, rest) : throw new JailUsageException($"--format '{format}': expected table or json");
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>Which host processes belong to a jail, and what /proc says of each.</summary>
internal static class JailProcesses
{
    public sealed record Process(int ParentPid, uint Uid, string Command);

    public static List<int> Of(JailState state)
    {
        if (state.Cgroup is { } cgroup && Directory.Exists(cgroup))
        {
            return Directory.EnumerateFiles(cgroup, "cgroup.procs", SearchOption.AllDirectories)
                .SelectMany(File.ReadLines)
                .Select(l => int.Parse(l, CultureInfo.InvariantCulture))
                .Distinct().Order().ToList();
        }
        var ns = Namespace(state.Pid) ?? throw new JailException($"jail {state.Id}: its init {state.Pid} is gone");
        return Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Namespace(pid) == ns)
            .Order().ToList();
    }

    private static string? Namespace(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/pid").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static Process? Describe(int pid)
    {
        try
        {
            if (ProcStat.Read(pid) is not { } stat)
            {
                return null;
            }
            var uid = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
                .Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
            var command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
            return new Process(stat.ParentPid, uint.Parse(uid, CultureInfo.InvariantCulture), command.Length > 0 ? command : $"[{stat.Name}]");
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
        {
            return null; // it ended meanwhile
        }
    }
}

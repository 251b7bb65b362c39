namespace InitOs.Admin;

/// <summary>
/// One admin command on many machines: hosts from a file (one per line, # comments), at most
/// N at a time, each with its own timeout; the results in the file's order.
/// </summary>
public static class Fleet
{
    public static IReadOnlyList<AdminTarget> ReadHosts(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"hosts file {path} does not exist");
        }
        var targets = new List<AdminTarget>();
        foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l.Split('#')[0].Trim(), i + 1)))
        {
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                targets.Add(AdminTarget.Parse(line));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{path}:{number}: {e.Message}");
            }
        }
        return targets.Count > 0 ? targets : throw new ArgumentException($"{path}: no hosts in it");
    }

    public static IReadOnlyList<AdminResult> Run(IReadOnlyList<AdminTarget> targets, int parallel, Func<AdminTarget, AdminResult> run)
    {
        if (parallel < 1)
        {
            throw new ArgumentException($"--parallel {parallel}: must be at least 1");
        }
        var results = new AdminResult[targets.Count];
        Parallel.For(0, targets.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, i => results[i] = run(targets[i]));
        return results;
    }

    /// <summary>HOST, RESULT, EXIT, SECONDS, and the first line of output or error.</summary>
    public static string Table(IReadOnlyList<AdminResult> results)
    {
        var width = Math.Max(4, results.Max(r => r.Host.Length));
        var lines = new List<string> { $"{"HOST".PadRight(width)}  RESULT  EXIT  SECONDS  FIRST LINE" };
        foreach (var r in results)
        {
            var first = (r.Succeeded ? r.Output : r.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
            lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{r.Host.PadRight(width)}  {(r.Succeeded ? "ok" : "FAILED"),-6}  {r.ExitCode,4}  {r.Took.TotalSeconds,7:F1}  {first}"));
        }
        var failed = results.Count(r => !r.Succeeded);
        lines.Add($"{results.Count - failed} of {results.Count} hosts succeeded");
        return string.Join('\n', lines);
    }
}

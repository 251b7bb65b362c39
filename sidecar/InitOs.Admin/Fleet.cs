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
        return ReadLines(path).Select(l => l.Target).ToList();
    }

    /// <summary>
    /// The hosts file's lines: a target (host, host:port, user@host:port), then optional
    /// key=value words (pin=VERSION: a rollout leaves the host at that version); # comments.
    /// Errors name file:line.
    /// </summary>
    public static IReadOnlyList<(AdminTarget Target, IReadOnlyDictionary<string, string> Options)> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"hosts file {path} does not exist");
        }
        var lines = new List<(AdminTarget, IReadOnlyDictionary<string, string>)>();
        foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l.Split('#')[0].Trim(), i + 1)))
        {
            if (line.Length == 0)
            {
                continue;
            }
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                foreach (var word in words.Skip(1))
                {
                    int equals = word.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0 || word[..equals] != "pin" || equals == word.Length - 1)
                    {
                        throw new ArgumentException($"\"{word}\" is not an option of a host (pin=VERSION)");
                    }
                    options[word[..equals]] = word[(equals + 1)..];
                }
                lines.Add((AdminTarget.Parse(words[0]), options));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{path}:{number}: {e.Message}");
            }
        }
        return lines.Count > 0 ? lines : throw new ArgumentException($"{path}: no hosts in it");
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

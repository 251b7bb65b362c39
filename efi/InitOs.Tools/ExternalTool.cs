using System.Diagnostics;

namespace InitOs.Tools;

/// <summary>Runs a workstation tool (mkfs.ext4, depmod, apt-get …) and fails with its stderr.</summary>
public static class ExternalTool
{
    /// <summary>Where a tool named without a path is sought after PATH: a user's PATH often lacks the sbin directories.</summary>
    private static readonly string[] SbinDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    /// <summary>A tool's path: <paramref name="file"/> itself when it names a path, else the first match on PATH or in the sbin directories.</summary>
    public static string Resolve(string file)
    {
        if (file.Contains('/', StringComparison.Ordinal))
        {
            return file;
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(SbinDirectories).Select(dir => Path.Combine(dir, file)).FirstOrDefault(File.Exists) ?? file;
    }

    /// <summary>How a tool ended and what it printed.</summary>
    public sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    /// <summary>Runs the tool and returns its stdout; a non-zero exit is an error carrying its stderr.</summary>
    public static string Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var words = args.ToList();
        var result = Exec(file, words, env, workingDirectory);
        return result.Code == 0
            ? result.Out
            : throw new InvalidOperationException($"{file} {string.Join(' ', words)} exited {result.Code}: {result.Err.Trim()}");
    }

    /// <summary>Runs the tool to its end, whatever its exit code (killed after <paramref name="timeout"/>, default none).</summary>
    public static Result Exec(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(Resolve(file))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        using var process = Start(info, file);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not end in {timeout!.Value.TotalSeconds:F0} s");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Process Start(ProcessStartInfo info, string file)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {file}: {e.Message} (is its Debian package installed? `make prereqs` installs them)", e);
        }
    }

    /// <summary>SOURCE_DATE_EPOCH when set (reproducible builds), else 0.</summary>
    public static long SourceDateEpoch() =>
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), out long v) && v >= 0 ? v : 0;
}

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

    public static string Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
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
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}: {stderr.Result.Trim()}");
        }
        return stdout;
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

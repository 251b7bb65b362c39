using InitOs.Tools;

namespace InitOs.TestKit;

/// <summary>Runs a command-line tool in a test: its stdout (a failure carries stderr), or how it ended.</summary>
public static class Tool
{
    public static string Run(string file, params string[] args) => ExternalTool.Run(file, args);

    /// <summary>Runs a program to its end (whatever its exit code), in <paramref name="workingDirectory"/> with extra environment.</summary>
    public static ExternalTool.Result Exec(string file, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        ExternalTool.Exec(file, args, environment, workingDirectory, timeout ?? TimeSpan.FromMinutes(5));
}

using System.Diagnostics;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>Runs the published box's `initos jail …` — the product path, not a library call.</summary>
public static class JailCli
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static Result Run(params string[] args) => RunWith(null, args);

    /// <summary>Through bash, so a test can leave fds open on purpose (e.g. "exec 7&lt;/").</summary>
    public static Result RunWith(string? bashPrefix, params string[] args) => Box(bashPrefix, "jail", args);

    /// <summary>`initos admin` as sshd runs it for a session that asked for <paramref name="sshCommand"/>.</summary>
    public static Result Admin(string sshCommand, params string[] forcedArguments) =>
        Box($"export SSH_ORIGINAL_COMMAND='{sshCommand.Replace("'", "'\\''", StringComparison.Ordinal)}'", "admin", forcedArguments);

    private static Result Box(string? bashPrefix, string applet, params string[] args)
    {
        var box = RepoPaths.Require(RepoPaths.Box, "make box");
        var info = bashPrefix is null ? new ProcessStartInfo(box) : new ProcessStartInfo("bash");
        if (bashPrefix is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"{bashPrefix}; exec \"$0\" {applet} \"$@\"");
            info.ArgumentList.Add(box);
        }
        else
        {
            info.ArgumentList.Add(applet);
        }
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = new Process { StartInfo = info };
        var output = new System.Text.StringBuilder();
        var errors = new System.Text.StringBuilder();
        using var outputClosed = new ManualResetEventSlim();
        using var errorsClosed = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) => Collect(output, e.Data, outputClosed);
        process.ErrorDataReceived += (_, e) => Collect(errors, e.Data, errorsClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Not "until the pipes close": a created jail keeps the command's stdio (as runc's does).
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"initos {applet} {string.Join(' ', args)} did not end in 60 s");
        }
        // The pipes close when the command exits, unless a created jail holds them: then 2 s is plenty.
        outputClosed.Wait(2000);
        errorsClosed.Wait(2000);
        lock (output)
        {
            lock (errors)
            {
                return new Result(process.ExitCode, output.ToString(), errors.ToString());
            }
        }
    }

    private static void Collect(System.Text.StringBuilder into, string? line, ManualResetEventSlim closed)
    {
        if (line is null)
        {
            closed.Set();
            return;
        }
        lock (into)
        {
            into.AppendLine(line);
        }
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}

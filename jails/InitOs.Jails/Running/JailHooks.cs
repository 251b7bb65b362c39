using System.Text;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// Runs a jail's hooks of one stage, in order, as the runtime-spec says: on the host, the jail's
/// state JSON on stdin, the hook's own environment (or this process's when it gives none),
/// killed at its timeout. The first failure is returned (a prestart or createRuntime failure
/// stops the jail; later stages only warn).
/// </summary>
public static class JailHooks
{
    public static string? Run(HookStage stage, IReadOnlyList<HookPlan> hooks, string stateJson)
    {
        foreach (var hook in hooks.Where(h => h.Stage == stage))
        {
            if (RunOne(hook, stateJson) is { } failure)
            {
                return $"{Name(stage)} hook {hook.Path} {failure}";
            }
        }
        return null;
    }

    public static string Name(HookStage stage) => char.ToLowerInvariant(stage.ToString()[0]) + stage.ToString()[1..];

    private static string? RunOne(HookPlan hook, string stateJson)
    {
        int state = StateOnStdin(stateJson);
        SpawnResult started;
        try
        {
            // The state on stdin; what the hook prints on stdout goes there too (runc keeps it
            // from the caller as well); its stderr is the caller's.
            started = Processes.SpawnExact(hook.Path, hook.Args, hook.Env ?? Inherited(), new SpawnOptions { StdioFd = state, Flags = SpawnFlags.KeepStderr });
        }
        catch (SysException e)
        {
            return $"could not start: {e.Message}";
        }
        finally
        {
            Files.Close(state);
        }
        if (started.ExecError != Errno.None)
        {
            Processes.Wait(started.Pid);
            return $"could not start: {SysException.Describe(started.ExecError)}";
        }
        var deadline = hook.Timeout is { } limit ? DateTime.UtcNow + limit : DateTime.MaxValue;
        while (true)
        {
            if (Processes.Wait(started.Pid, noHang: true) is { } exit)
            {
                return exit.Exited && exit.ExitCode == 0 ? null
                    : exit.Exited ? $"failed: exit status {exit.ExitCode}" : $"failed: killed by {Signal.Name(exit.Signal)}";
            }
            if (DateTime.UtcNow > deadline)
            {
                Processes.Signal(started.Pid, Signal.Kill);
                Processes.Wait(started.Pid);
                return $"did not end within its timeout of {hook.Timeout!.Value.TotalSeconds:F0} s (killed)";
            }
            Thread.Sleep(5);
        }
    }

    /// <summary>The state JSON in a memfd, reopened so the hook reads it from the start.</summary>
    private static int StateOnStdin(string stateJson)
    {
        int memfd = Memfd.Create("initos-hook-state");
        try
        {
            Files.WriteAll(memfd, Encoding.UTF8.GetBytes(stateJson));
            return Files.Open($"/proc/self/fd/{memfd}", OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        }
        finally
        {
            Files.Close(memfd);
        }
    }

    private static List<string> Inherited() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToList();
}

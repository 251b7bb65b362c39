using System.Text;
using InitOs.Jails.Root;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// `initos jail-init [--wait-start]`: the first process of a jail, exec'd by the host from a
/// sealed copy of this binary into the new namespaces. Reads the plan (fd 3), builds the root
/// and reports "ok" or the error (fd 4), waits for `start` (fd 5, create only), then is the
/// jail's tini: starts the program with the spec's settings, reaps, forwards signals.
/// </summary>
internal static class JailInitApplet
{
    public static int Run(string[] args)
    {
        Jails.Planning.JailPlan plan;
        try
        {
            // Through /proc: a fresh open of the memfd reads from the start.
            plan = PlanCodec.Decode(File.ReadAllBytes($"/proc/self/fd/{JailLauncher.PlanFd}"));
            Files.Close(JailLauncher.PlanFd);
            JailRoot.BuildWithKernel(plan);
        }
        catch (Exception e) when (e is SysException or IOException or InvalidOperationException or UnauthorizedAccessException or JailException or System.Text.Json.JsonException)
        {
            Report($"building the jail's root failed: {e.Message}");
            return 1;
        }
        Report("ok");
        if (args.Contains("--wait-start"))
        {
            WaitForStart();
        }
        if (plan.ProgramIsInit)
        {
            return BecomeProgram(plan);
        }
        var options = new TiniOptions { Command = plan.Process.Args, Verbosity = 1 };
        int status = TiniApplet.Supervise(options, () => JailProgram.Spawn(plan.Process));
        // The program is gone: the jail ends with its status, without the runtime's shutdown.
        Processes.ExitNow(status);
        return status;
    }

    /// <summary>
    /// An OS's init is the jail's PID 1: exec it in this process's place, on the jail's console
    /// (a session of its own, the console its controlling terminal) when there is one.
    /// </summary>
    private static int BecomeProgram(Jails.Planning.JailPlan plan)
    {
        var process = plan.Process;
        if (plan.Console is not null)
        {
            Processes.NewSession();
            Terminal.AttachStdio("/dev/console");
            Terminal.MakeControlling();
        }
        var settings = JailProgram.Settings(process) with { KeepSession = plan.Console is not null };
        var failure = JailExec.Become(JailProgram.Resolve(process.Args[0], process.Env), process.Args, process.Env, settings);
        Console.Error.WriteLine($"initos jail-init: cannot start {process.Args[0]} as the jail's init: {failure}");
        Processes.ExitNow(127);
        return 127;
    }

    private static void Report(string message)
    {
        Files.WriteAll(JailLauncher.ReportFd, Encoding.UTF8.GetBytes(message));
        Files.Close(JailLauncher.ReportFd);
    }

    private static void WaitForStart()
    {
        var buffer = new byte[1];
        Files.Read(JailLauncher.StartFd, buffer);
        Files.Close(JailLauncher.StartFd);
    }
}

using System.Text;
using InitOs.Jails.Root;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// `initos jail-init [--wait-start]`: the first process of a jail, exec'd by the host from a
/// sealed copy of this binary into the new namespaces. Reads the plan (fd 3), builds the root
/// and reports "ok" or the error (fd 4), waits for `start` (fd 5, create only), then execs the
/// program in its place (it is PID 1, as runc makes it), or, when the bundle asks for InitOS's
/// tini, stays as the jail's init: starts the program, reaps, forwards signals. Fds the caller
/// preserved come first (3…), and the three above move up by as many.
/// </summary>
internal static class JailInitApplet
{
    public static int Run(string[] args)
    {
        int preserved = PreservedFds(args);
        var fds = JailLauncher.InitFds(preserved);
        Jails.Planning.JailPlan plan;
        try
        {
            // Through /proc: a fresh open of the memfd reads from the start.
            plan = PlanCodec.Decode(File.ReadAllBytes($"/proc/self/fd/{fds.Plan}"));
            Files.Close(fds.Plan);
            JailRoot.BuildWithKernel(plan);
            plan = plan with { Process = JailHome.WithHome(plan.Process, "/") };
        }
        catch (Exception e) when (e is SysException or IOException or InvalidOperationException or UnauthorizedAccessException or JailException or System.Text.Json.JsonException)
        {
            Report(fds.Report, $"building the jail's root failed: {e.Message}");
            return 1;
        }
        Report(fds.Report, "ok");
        if (args.Contains("--wait-start"))
        {
            WaitForStart(fds.Start);
        }
        if (plan.Console is not null)
        {
            // The jail's terminal (or an OS's console): stdio of the program, and its controlling
            // terminal in a session of its own.
            Processes.NewSession();
            Terminal.AttachStdio("/dev/console");
            Terminal.MakeControlling();
        }
        if (plan.ProgramIsInit)
        {
            return BecomeProgram(plan);
        }
        var options = new TiniOptions { Command = plan.Process.Args, Verbosity = 1 };
        int status = TiniApplet.Supervise(options, () => JailProgram.Spawn(plan.Process, plan.PreservedFds));
        // The program is gone: the jail ends with its status, without the runtime's shutdown.
        Processes.ExitNow(status);
        return status;
    }

    private static int PreservedFds(string[] args)
    {
        int at = Array.IndexOf(args, JailLauncher.PreservedFdsArgument);
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>The program is the jail's PID 1 (runc's way, and an OS's init): exec it in this process's place.</summary>
    private static int BecomeProgram(Jails.Planning.JailPlan plan)
    {
        var process = plan.Process;
        var settings = JailProgram.Settings(process) with { KeepSession = plan.Console is not null, PreservedFds = plan.PreservedFds };
        var failure = JailExec.Become(JailProgram.Resolve(process.Args[0], process.Env), process.Args, process.Env, settings);
        Console.Error.WriteLine($"initos jail-init: cannot start {process.Args[0]} as the jail's init: {failure}");
        Processes.ExitNow(127);
        return 127;
    }

    private static void Report(int fd, string message)
    {
        Files.WriteAll(fd, Encoding.UTF8.GetBytes(message));
        Files.Close(fd);
    }

    private static void WaitForStart(int fd)
    {
        var buffer = new byte[1];
        Files.Read(fd, buffer);
        Files.Close(fd);
    }
}

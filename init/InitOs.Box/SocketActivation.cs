using System.Globalization;
using InitOs.Jails.Planning;

namespace InitOs.Box;

/// <summary>
/// systemd's socket activation through the runtime, as crun does it: when this command was given
/// LISTEN_FDS=N (with LISTEN_PID naming it, or no LISTEN_PID), fds 3…3+N-1 are preserved and the
/// program, PID 1 of its pid namespace, gets LISTEN_FDS=N and LISTEN_PID=1 (and LISTEN_FDNAMES).
/// </summary>
internal static class SocketActivation
{
    public static JailPlan Apply(JailPlan plan)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0)
        {
            return plan;
        }
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        if (pid is not null && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return plan; // Meant for another process.
        }
        if (!plan.ProgramIsInit || (plan.CloneFlags & Jails.Planning.Namespaces.Pid) == 0)
        {
            Console.Error.WriteLine("initos jail: warning: LISTEN_FDS is set, but the program is not PID 1 of a pid namespace of its own; socket activation is not passed on");
            return plan;
        }
        var env = plan.Process.Env.Where(e => !e.StartsWith("LISTEN_", StringComparison.Ordinal)).ToList();
        env.Add($"LISTEN_FDS={count}");
        env.Add("LISTEN_PID=1");
        if (Environment.GetEnvironmentVariable("LISTEN_FDNAMES") is { } names)
        {
            env.Add($"LISTEN_FDNAMES={names}");
        }
        return plan with
        {
            PreservedFds = Math.Max(plan.PreservedFds, Math.Min(count, Jails.Running.JailLauncher.MostPreservedFds)),
            Process = plan.Process with { Env = env },
        };
    }
}

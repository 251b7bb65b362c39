using System.Diagnostics;
using System.Globalization;
using System.Text;
using InitOs.Init.Logging;
using InitOs.Init.Recovery;

namespace InitOs.Init.Boot;

/// <summary>
/// Runs phases in order: breaks into a shell where asked, times and logs each phase,
/// and turns a failed phase into the failure policy — retrying the phase after an
/// emergency shell, as dracut does, so an admin can fix things and continue.
/// </summary>
public sealed class BootRunner
{
    private readonly IRecovery _recovery;

    public BootRunner(IRecovery recovery) => _recovery = recovery;

    public void Run(IReadOnlyList<Phase> phases, BootContext context)
    {
        foreach (var phase in phases)
        {
            if (phase.When is { } when && !when(context))
            {
                continue;
            }
            if (context.Settings?.BreakBefore == phase.Name)
            {
                _recovery.Break($"initos.break={phase.Name}: emergency shell before phase '{phase.Name}'; exit the shell to continue the boot");
            }
            RunUntilDone(phase, context);
        }
        context.Log.Info(TimingTable(context.Timings));
    }

    private void RunUntilDone(Phase phase, BootContext context)
    {
        while (true)
        {
            string? failure = TryRun(phase, context);
            if (failure is null)
            {
                return;
            }
            context.Log.Error(failure);
            try
            {
                context.BeforeFailurePolicy?.Invoke(failure);
            }
            catch (Exception e)
            {
                context.Log.Error($"before the failure policy: {e.Message}");
            }
            _recovery.Fail(context.Policy, failure);
            context.Log.Info($"retrying phase {phase.Name}");
        }
    }

    private static string? TryRun(Phase phase, BootContext context)
    {
        double start = BootLog.Uptime;
        var clock = Stopwatch.StartNew();
        context.Log.Info($"phase {phase.Name}: start");
        foreach (var task in phase.Tasks)
        {
            try
            {
                task.Run(context);
            }
            catch (Exception e)
            {
                return $"phase {phase.Name}, task {task.Name} failed: {e.Message}";
            }
        }
        context.Timings.Add(new PhaseTiming(phase.Name, start, clock.Elapsed));
        context.Log.Info(string.Create(CultureInfo.InvariantCulture, $"phase {phase.Name}: done in {clock.Elapsed.TotalMilliseconds:F1} ms"));
        return null;
    }

    /// <summary>The boot log's summary: when each phase started (uptime) and how long it took.</summary>
    public static string TimingTable(IReadOnlyList<PhaseTiming> timings)
    {
        var table = new StringBuilder();
        table.Append(CultureInfo.InvariantCulture, $"boot timing:\n{"phase",-16} {"start (s)",10} {"took (ms)",10}");
        foreach (var t in timings)
        {
            table.Append(CultureInfo.InvariantCulture, $"\n{t.Name,-16} {t.StartUptime,10:F3} {t.Duration.TotalMilliseconds,10:F1}");
        }
        double total = timings.Sum(t => t.Duration.TotalMilliseconds);
        table.Append(CultureInfo.InvariantCulture, $"\n{"total",-16} {"",10} {total,10:F1}");
        return table.ToString();
    }
}

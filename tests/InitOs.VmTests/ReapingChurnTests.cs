using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// Minutes of orphan churn under the tini mode as PID 1 of a PID namespace (the Reaper and
/// SignalLoop PID 1 uses too): nothing is left unreaped, and PID 1's open fds and resident
/// memory do not grow. In the boot collection so the churn does not starve a QEMU boot.
/// </summary>
[Collection(BootCollection.Name)]
public sealed partial class ReapingChurnTests
{
    private static int ChurnSeconds =>
        int.TryParse(Environment.GetEnvironmentVariable("INITOS_CHURN_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 60;

    [GeneratedRegex(@"SAMPLE fds=(\d+) rss_kb=(\d+) orphans=(\d+)")]
    private static partial Regex SampleLine();

    [Fact]
    public void Minutes_of_orphan_churn_leave_no_zombie_and_no_fd_or_memory_growth()
    {
        var script = Path.Combine(RepoPaths.Root, "tests/InitOs.VmTests/Workloads/churn.sh");
        var output = RunUnderTiniAsPid1(script, ChurnSeconds);

        var samples = SampleLine().Matches(output)
            .Select(m => (Fds: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                          RssKb: int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                          Orphans: long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)))
            .ToList();
        Assert.True(samples.Count >= ChurnSeconds / 10, $"too few samples:\n{output}");
        Assert.True(samples[^1].Orphans >= 1000L * ChurnSeconds / 10, $"the churn was too slow to mean anything:\n{output}");
        Assert.Contains("zombies=0", output, StringComparison.Ordinal);
        Assert.All(samples, s => Assert.Equal(samples[0].Fds, s.Fds));
        // The reaping path allocates nothing in steady state: a few pages of slack, no trend.
        Assert.True(samples[^1].RssKb - samples[0].RssKb <= 256, $"PID 1's resident memory grew:\n{output}");
    }

    private static string RunUnderTiniAsPid1(string script, int seconds)
    {
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--pid", "--fork", "--mount-proc", RepoPaths.Require(RepoPaths.Box, "make box"), "tini", "--", "sh", script, seconds.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var err = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit((seconds + 60) * 1000), "the churn did not end");
        Assert.True(process.ExitCode == 0, $"churn exited {process.ExitCode}: {err.Result}\n{output}");
        return output;
    }
}

using System.Diagnostics;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>The published binary's tini mode on this machine (as root), with and without a PID namespace.</summary>
public sealed class TiniModeTests
{
    private sealed record Result(int Code, string Out, string Err);

    private static Result Tini(params string[] args) => Run(RepoPaths.Require(RepoPaths.Box, "make box"), ["tini", .. args]);

    /// <summary>tini as PID 1 of a fresh PID namespace, the way a jail runs it.</summary>
    private static Result TiniAsPid1(params string[] args) =>
        Run("unshare", ["--pid", "--fork", "--mount-proc", RepoPaths.Require(RepoPaths.Box, "make box"), "tini", .. args]);

    private static Result Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var err = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(600_000), $"{file} {string.Join(' ', args)} did not end");
        return new Result(process.ExitCode, output, err.Result);
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 3", 3)]
    [InlineData("kill -9 $$", 137)]
    [InlineData("kill -15 $$", 143)]
    public void The_exit_code_is_the_childs_or_128_plus_its_signal(string script, int code) =>
        Assert.Equal(code, Tini("-s", "--", "sh", "-c", script).Code);

    [Fact]
    public void Remapped_exit_codes_become_zero()
    {
        Assert.Equal(0, Tini("-s", "-e", "3", "-e", "4", "--", "sh", "-c", "exit 4").Code);
        Assert.Equal(5, Tini("-s", "-e", "3", "--", "sh", "-c", "exit 5").Code);
    }

    [Fact]
    public void Exec_failures_are_126_and_127_with_a_message()
    {
        var missing = Tini("-s", "--", "/nonexistent/program");
        Assert.Equal(127, missing.Code);
        Assert.Contains("exec /nonexistent/program failed", missing.Err, StringComparison.Ordinal);
        Assert.Equal(126, Tini("-s", "--", "/etc/passwd").Code);
    }

    [Fact]
    public void As_pid1_it_reaps_a_burst_of_orphans()
    {
        var result = TiniAsPid1("--", "sh", "-c",
            "i=0; while [ $i -lt 500 ]; do (true &); i=$((i+1)); done; sleep 1; echo zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)");
        Assert.Equal(0, result.Code);
        Assert.Contains("zombies=0", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subreaper_gets_the_orphans_of_its_child()
    {
        var result = Tini("-s", "--", "sh", "-c",
            "(sleep 1 &); sleep 0.3; echo tini=$PPID; for s in /proc/[0-9]*/status; do grep -q '^Name:.sleep$' $s && grep '^PPid' $s; done");
        var tini = result.Out.Split('\n').First(l => l.StartsWith("tini=", StringComparison.Ordinal))[5..];
        Assert.Contains($"PPid:\t{tini}", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("isn't registered as a child subreaper", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_pid1_or_subreaper_it_warns_that_reaping_cannot_work()
    {
        var result = Tini("--", "true");
        Assert.Equal(0, result.Code);
        Assert.Contains("Tini is not running as PID 1 and isn't registered as a child subreaper", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Signals_reach_the_child_and_with_g_its_whole_group()
    {
        // The child traps TERM and reports it; tini is sent TERM by the child's own background helper.
        var single = Tini("-s", "--", "sh", "-c", "trap 'echo got-term; exit 7' TERM; (sleep 0.3; kill -TERM $PPID) & while :; do sleep 0.1; done");
        Assert.Equal(7, single.Code);
        Assert.Contains("got-term", single.Out, StringComparison.Ordinal);
        var group = Tini("-s", "-g", "--", "sh", "-c", "sh -c 'trap \"echo member-got-term; exit 0\" TERM; while :; do sleep 0.1; done' & (sleep 0.3; kill -TERM $PPID) & trap 'wait; exit 9' TERM; while :; do sleep 0.1; done");
        Assert.Equal(9, group.Code);
        Assert.Contains("member-got-term", group.Out, StringComparison.Ordinal);
    }

    /// <summary>tini's own behaviour suite from Debian's source package (scripts/tini-suite.sh), FORCE_SUBREAPER=0 and 1.</summary>
    [Fact]
    public void The_upstream_tini_suite_passes_against_the_tini_mode()
    {
        var result = Run("bash", [Path.Combine(RepoPaths.Root, "scripts/tini-suite.sh")]);
        Assert.True(result.Code == 0, $"tini suite failed:\n{result.Out}\n{result.Err}");
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(result.Out, "All done, tests as expected"));
    }

    [Fact]
    public void Version_help_and_usage_errors()
    {
        Assert.Equal("tini version 0.19.0 (InitOS)\n", Tini("--version").Out);
        Assert.Contains("-e EXIT_CODE", Tini("-h").Out, StringComparison.Ordinal);
        var bad = Tini("-x", "true");
        Assert.Equal(1, bad.Code);
        Assert.Contains("invalid option -- 'x'", bad.Err, StringComparison.Ordinal);
        Assert.Equal(1, Tini().Code);
    }
}

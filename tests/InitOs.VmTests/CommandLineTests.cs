using InitOs.Tools;
using InitOs.Init;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// What a newcomer types first: the published box's help, its version against the build's, and
/// busybox's shutdown flags refused or taken as busybox does (only refusals run here: an accepted
/// request would reach this host's own PID 1).
/// </summary>
public sealed class CommandLineTests
{
    private static ExternalTool.Result Box(params string[] args) => Tool.Exec(RepoPaths.Require(RepoPaths.Box, "make box"), args);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void Help_succeeds_and_lists_the_user_facing_applets_with_every_admin_and_jail_command(string word)
    {
        var help = Box(word);
        Assert.True(help.Code == 0, help.ToString());
        foreach (var applet in new[] { "reboot", "poweroff", "halt", "services", "admin", "tini", "jail", "version", "help" })
        {
            Assert.Matches($@"(?m)^\s+{applet}\b", help.Out);
        }
        // Internal applets (the jail's init, the staged sidecar, PID 1 itself) are not offered.
        Assert.DoesNotMatch(@"(?m)^\s+(init|sidecar|jail-init)\b", help.Out);
        foreach (var command in new[] { "status [--json]", "services restart NAME", "services kill NAME", "logs [--follow]", "jail debug NAME", "run, create, start, state, exec, kill", "delete, list, pool init" })
        {
            Assert.Contains(command, help.Out, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("jail", "--help")]
    [InlineData("jail", "-h")]
    [InlineData("jail", "help")]
    [InlineData("jail", "run", "--help")]
    public void Jail_help_prints_the_usage_and_succeeds_as_runc_does(params string[] args)
    {
        var help = Box(args);
        Assert.True(help.Code == 0, help.ToString());
        Assert.StartsWith("usage: initos jail [--root DIR]", help.Out, StringComparison.Ordinal);
        Assert.Contains("pool init DIR", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_applet_is_refused_naming_the_user_facing_ones()
    {
        var refused = Box("frobnicate");
        Assert.Equal(2, refused.Code);
        Assert.Contains("unknown applet 'frobnicate'. Applets: reboot, poweroff, halt, services, admin, tini, chain, jail, version, help", refused.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("jail-init", refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Admin_logs_follow_ends_when_its_client_goes()
    {
        // head takes one line and goes, as an ssh client that hangs up does: the follower must see it
        // while it waits for news (before: it slept on for ever, writing nothing).
        var box = RepoPaths.Require(RepoPaths.Box, "make box");
        var started = System.Diagnostics.Stopwatch.StartNew();
        var run = Tool.Exec("timeout", ["20", "bash", "-c", $"SSH_ORIGINAL_COMMAND='logs --follow' '{box}' admin | head -n 1 >/dev/null; exit ${{PIPESTATUS[0]}}"]);

        Assert.True(run.Code == 0, $"exit {run.Code} after {started.Elapsed}: {run.Err}");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"logs --follow took {started.Elapsed} to notice");
    }

    [Theory]
    [InlineData("reboot", "-x")]
    [InlineData("poweroff", "-d")]
    [InlineData("halt", "now")]
    [InlineData("reboot", "-d", "soon")]
    public void Shutdown_flags_busybox_does_not_know_are_refused_before_anything_is_asked(params string[] args)
    {
        var refused = Box(args);
        Assert.Equal(2, refused.Code);
        Assert.StartsWith($"usage: {args[0]} [-d SECONDS] [-f] [-n]", refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_box_prints_the_builds_one_version_which_is_git_describes()
    {
        var described = Tool.Run(Path.Combine(RepoPaths.Root, "scripts/version.sh")).Trim();
        Assert.Equal(BuildVersion.Text, described);
        foreach (var word in new[] { "version", "--version" })
        {
            var version = Box(word);
            Assert.True(version.Code == 0, version.ToString());
            Assert.Equal($"initos {described}\n", version.Out);
        }
        Assert.Contains($"VERSION_ID={described}\n", BuildVersion.OsRelease, StringComparison.Ordinal);
        Assert.Contains($"IMAGE_VERSION={described}\n", BuildVersion.OsRelease, StringComparison.Ordinal);
    }
}

using System.Text.Json;

namespace InitOs.JailTests;

/// <summary>create → start → state → kill → delete, as runc's command line has them.</summary>
[Collection(JailCollection.Name)]
public sealed class JailLifecycleTests
{
    private static string Status(string id)
    {
        var state = JailCli.Run("state", id);
        Assert.True(state.Code == 0, state.ToString());
        using var json = JsonDocument.Parse(state.Out);
        Assert.Equal(id, json.RootElement.GetProperty("id").GetString());
        Assert.Equal("1.0.2", json.RootElement.GetProperty("ociVersion").GetString());
        return json.RootElement.GetProperty("status").GetString()!;
    }

    [Fact]
    public void A_created_jail_waits_for_start_runs_and_is_stopped_by_kill_then_deleted()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("touch /started; exec sleep 600");
        var id = JailCli.NewId("life");
        var pidFile = Path.Combine(bundle.Directory, "pid");
        var created = JailCli.Run("create", "--bundle", bundle.Save(), "--pid-file", pidFile, id);
        try
        {
            Assert.True(created.Code == 0, created.ToString());
            Assert.Equal("created", Status(id));
            var pid = int.Parse(File.ReadAllText(pidFile), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Directory.Exists($"/proc/{pid}"));
            Thread.Sleep(200);
            Assert.False(File.Exists(Path.Combine(bundle.Rootfs, "started")), "the program ran before start");

            Assert.Equal(0, JailCli.Run("start", id).Code);
            Assert.Equal("running", Status(id));
            WaitFor(() => File.Exists(Path.Combine(bundle.Rootfs, "started")), "the program to start");
            Assert.Contains(id, JailCli.Run("list").Out, StringComparison.Ordinal);

            var refused = JailCli.Run("delete", id);
            Assert.Equal(1, refused.Code);
            Assert.Contains("is running: delete needs it created or stopped; stop it first or use --force", refused.Err, StringComparison.Ordinal);

            Assert.Equal(0, JailCli.Run("kill", id, "KILL").Code);
            WaitFor(() => Status(id) == "stopped", "the jail to stop");
            Assert.Equal(0, JailCli.Run("delete", id).Code);
            Assert.False(Directory.Exists($"/run/initos/jails/{id}"));
            Assert.NotEqual(0, JailCli.Run("state", id).Code);
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
        }
    }

    [Fact]
    public void Two_jails_cannot_share_an_id_and_start_refuses_a_running_jail()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("exec sleep 600");
        var id = JailCli.NewId("dup");
        bundle.Save();
        try
        {
            Assert.Equal(0, JailCli.Run("create", "--bundle", bundle.Directory, id).Code);
            var again = JailCli.Run("create", "--bundle", bundle.Directory, id);
            Assert.Equal(1, again.Code);
            Assert.Contains($"jail {id} already exists", again.Err, StringComparison.Ordinal);
            Assert.Equal(0, JailCli.Run("start", id).Code);
            var second = JailCli.Run("start", id);
            Assert.Equal(1, second.Code);
            Assert.Contains("is running: start needs it created", second.Err, StringComparison.Ordinal);
        }
        finally
        {
            Assert.Equal(0, JailCli.Run("delete", "--force", id).Code);
        }
    }

    [Fact]
    public void Exec_runs_another_program_inside_a_running_jail_with_the_bundles_settings()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("exec sleep 600");
        var id = JailCli.NewId("exec");
        try
        {
            Assert.Equal(0, JailCli.Run("create", "--bundle", bundle.Save(), id).Code);
            var early = JailCli.Run("exec", id, "true");
            Assert.Equal(1, early.Code);
            Assert.Contains("is created: exec needs it running", early.Err, StringComparison.Ordinal);
            Assert.Equal(0, JailCli.Run("start", id).Code);

            var result = JailCli.Run("exec", id, "--", "sh", "-c", "echo pid=$$ host=$(hostname); cat /proc/1/cmdline | tr '\\0' ' '; echo; grep -E '^(CapEff|Seccomp):' /proc/self/status; exit 5");
            Assert.True(result.Code == 5, result.ToString());
            Assert.Contains("host=testjail", result.Out, StringComparison.Ordinal);
            // PID 1 of the jail is its program (sleep), which the exec'd shell sees.
            Assert.Contains("sleep 600", result.Out, StringComparison.Ordinal);
            Assert.Contains("CapEff:\t0000000020000420", result.Out, StringComparison.Ordinal);
            Assert.Contains("Seccomp:\t2", result.Out, StringComparison.Ordinal);
            // A small pid: the program is in the jail's pid namespace.
            var pid = int.Parse(result.Out.Split("pid=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(pid, 2, 100);
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using InitOs.Jails.Running;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// `initos admin jail debug` as an ssh session reaches it (SSH_ORIGINAL_COMMAND): a path for a
/// name, a forged state naming a host process, a pid that is another process now — each refused
/// in one line with exit 2 and nothing joined; a real unprivileged jail is joined.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class JailDebugTests
{
    private static void AssertRefusedInOneLine(JailCli.Result result, string expected)
    {
        Assert.True(result.Code == 2, result.ToString());
        Assert.Equal(expected, result.Err.TrimEnd('\n'));
        Assert.Empty(result.Out);
    }

    /// <summary>A forged jail record under the state root naming <paramref name="pid"/>; removed by disposing.</summary>
    private sealed class ForgedState : IDisposable
    {
        public ForgedState(int pid, ulong startTime)
        {
            Id = JailCli.NewId("forged");
            Directory.CreateDirectory(JailState.DirectoryOf(Id));
            new JailState { Id = Id, Status = JailStatus.Running, Pid = pid, PidStartTime = startTime, Bundle = "/nonexistent" }.Save();
        }

        public string Id { get; }

        public void Dispose() => Directory.Delete(JailState.DirectoryOf(Id), recursive: true);
    }

    [Fact]
    public void A_path_for_a_name_is_refused_even_with_a_state_file_there()
    {
        using var forged = new TempDirectory("initos-forged-");
        File.WriteAllText(Path.Combine(forged.Path, "state.json"),
            $$"""{ "ociVersion": "1.0.2", "id": "x", "status": "running", "pid": 1, "pidStartTime": {{JailState.ProcessStartTime(1)}}, "bundle": "/" }""");

        var result = JailCli.Admin($"jail debug {forged.Path} cat /etc/hostname");

        AssertRefusedInOneLine(result, $"initos admin: jail ID '{forged.Path}' must be 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    }

    [Fact]
    public void A_forged_state_naming_a_host_process_is_refused_before_anything_is_joined()
    {
        using var host = Process.Start("sleep", "60");
        using var forged = new ForgedState(host.Id, JailState.ProcessStartTime(host.Id)!.Value);
        var marker = Path.Combine(Path.GetTempPath(), $"initos-forged-{forged.Id}");
        try
        {
            var result = JailCli.Admin($"jail debug {forged.Id} touch {marker}");

            AssertRefusedInOneLine(result, $"initos admin: jail {forged.Id}: its process {host.Id} shares the host's mount namespace; jail debug joins jails, not the host");
            Assert.False(File.Exists(marker), "the forged jail's command ran on the host");
        }
        finally
        {
            host.Kill();
            host.WaitForExit();
            File.Delete(marker);
        }
    }

    [Fact]
    public void A_state_whose_pid_is_another_process_now_is_refused()
    {
        using var host = Process.Start("sleep", "60");
        using var forged = new ForgedState(host.Id, JailState.ProcessStartTime(host.Id)!.Value + 1);
        try
        {
            var result = JailCli.Admin($"jail debug {forged.Id} true");

            AssertRefusedInOneLine(result, $"initos admin: no running jail named '{forged.Id}' (jails: {string.Join(", ", JailState.AllIds())})");
        }
        finally
        {
            host.Kill();
            host.WaitForExit();
        }
    }

    [Fact]
    public void An_unprivileged_jail_is_joined_as_its_own_root_with_the_toolbox()
    {
        using var bundle = new TestBundle();
        bundle.Config["linux"]!["namespaces"]!.AsArray().Add(JsonNode.Parse("""{ "type": "user" }"""));
        bundle.WithShell("exec sleep 600");
        var id = JailCli.NewId("debug");
        try
        {
            Assert.Equal(0, JailCli.Run("create", "--bundle", bundle.Save(), id).Code);
            Assert.Equal(0, JailCli.Run("start", id).Code);

            // The jail's hostname (its uts namespace) and its user namespace's map.
            var result = JailCli.Admin($"jail debug {id} cat /proc/sys/kernel/hostname /proc/self/uid_map");

            Assert.True(result.Code == 0, result.ToString());
            var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("testjail", lines[0]);
            Assert.Matches(@"^\s*0\s+[1-9][0-9]*\s+[0-9]+$", lines[1]);
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
        }
    }

    /// <summary>
    /// Runs <paramref name="watcher"/> as a jail's program (`jail run`, in the background) and, while it
    /// watches, an admin's `jail debug ID sleep 1`; returns what the watcher printed.
    /// </summary>
    private static JailCli.Result WatchADebugSession(TestBundle bundle, string[] watcher)
    {
        bundle.WithArgs(["/bin/jail-escape", .. watcher]);
        var id = JailCli.NewId("watched");
        var run = Task.Run(() => JailCli.Run("run", "--bundle", bundle.Save(), id));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (JailState.Load(id)?.Status != JailStatus.Running)
        {
            Assert.True(DateTime.UtcNow < deadline && !run.IsCompleted, $"jail {id} did not start: {(run.IsCompleted ? run.Result.ToString() : "")}");
            Thread.Sleep(50);
        }
        Thread.Sleep(500);
        var debug = JailCli.Admin($"jail debug {id} sleep 1");
        Assert.True(debug.Code == 0, debug.ToString());
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), "the watcher did not end");
        return run.Result;
    }

    [Fact]
    public void A_privileged_jail_holding_the_debug_shells_binary_cannot_reopen_it_for_writing_and_the_hosts_busybox_is_unchanged()
    {
        var before = System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(JailDebugToolbox));
        var backup = Path.Combine(Path.GetTempPath(), $"initos-busybox-backup-{Guid.NewGuid():N}");
        File.Copy(JailDebugToolbox, backup);
        try
        {
            using var bundle = new TestBundle();
            bundle.WithCapabilities(AllCapabilitiesOfThisHost());
            bundle.Process["noNewPrivileges"] = false;
            var result = WatchADebugSession(bundle, ["exe-watch", "4"]);

            // The debug shell's binary is the sealed toolbox: EROFS. (Before its exec the joiner runs the
            // InitOS binary, which is busy for as long as PID 1, or here `jail run`, runs it: ETXTBSY.)
            Assert.Matches(@"TOOK [1-9]", result.Out);
            Assert.Contains("BLOCKED: reopen a joining process's binary for writing: Read-only file system", result.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("ESCAPED", result.Out, StringComparison.Ordinal);
            Assert.Equal(before, System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(JailDebugToolbox)));
        }
        finally
        {
            if (!System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(JailDebugToolbox)).SequenceEqual(before))
            {
                File.Copy(backup, JailDebugToolbox, overwrite: true); // the attack worked: put the host's busybox back
            }
            File.Delete(backup);
        }
    }

    [Fact]
    public void An_unprivileged_jail_seizing_every_new_process_never_catches_the_joiner_while_it_runs_initos()
    {
        using var bundle = new TestBundle();
        bundle.Config["linux"]!["namespaces"]!.AsArray().Add(JsonNode.Parse("""{ "type": "user" }"""));
        bundle.WithCapabilities("CAP_SYS_PTRACE");
        var result = WatchADebugSession(bundle, ["ptrace-watch", "4"]);

        Assert.Matches(@"TRIED [1-9]", result.Out);
        Assert.Contains("BLOCKED: no process was seized while it ran InitOS", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("ESCAPED", result.Out, StringComparison.Ordinal);
    }

    private const string JailDebugToolbox = "/bin/busybox";

    private static string[] AllCapabilitiesOfThisHost()
    {
        var line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var mask = ulong.Parse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return Enumerable.Range(0, 41).Where(bit => (mask & (1UL << bit)) != 0).Select(bit => InitOs.Jails.Planning.Capabilities.NameOf(bit)).ToArray();
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>runc's command line beyond the lifecycle: global flags, list/ps formats, spec and features.</summary>
[Collection(JailCollection.Name)]
public sealed class RuntimeCliTests
{
    [Fact]
    public void Root_keeps_jail_records_apart_and_list_and_ps_speak_json()
    {
        using var root = new TempDirectory("initos-runc-root-");
        using var bundle = new TestBundle();
        bundle.WithShell("sleep 600 & exec sleep 601");
        var id = JailCli.NewId("root");
        try
        {
            Assert.Equal(0, JailCli.Run("--root", root.Path, "create", "--bundle", bundle.Save(), id).Code);
            Assert.True(File.Exists(Path.Combine(root.Path, id, "state.json")));
            Assert.DoesNotContain(id, JailCli.Run("list").Out, StringComparison.Ordinal);
            Assert.Equal(1, JailCli.Run("state", id).Code);

            var listed = JsonNode.Parse(JailCli.Run("--root", root.Path, "list", "--format", "json").Out)!.AsArray();
            var entry = listed.Single(j => j!["id"]!.GetValue<string>() == id)!;
            Assert.Equal("created", entry["status"]!.GetValue<string>());
            Assert.Equal(bundle.Directory, entry["bundle"]!.GetValue<string>());
            Assert.Equal(id + "\n", JailCli.Run($"--root={root.Path}", "list", "-q").Out);

            Assert.Equal(0, JailCli.Run("--root", root.Path, "start", id).Code);
            var pids = WaitFor(() => JsonNode.Parse(JailCli.Run("--root", root.Path, "ps", "--format", "json", id).Out)!.AsArray().Select(p => p!.GetValue<int>()).ToList(), p => p.Count >= 3);
            int init = JsonNode.Parse(JailCli.Run("--root", root.Path, "state", id).Out)!["pid"]!.GetValue<int>();
            Assert.Contains(init, pids);
            var table = JailCli.Run("--root", root.Path, "ps", id).Out;
            Assert.Contains("sleep 600", table, StringComparison.Ordinal);
            Assert.Contains("sleep 601", table, StringComparison.Ordinal);
        }
        finally
        {
            JailCli.Run("--root", root.Path, "delete", "--force", id);
        }
        Assert.False(Directory.Exists(Path.Combine(root.Path, id)));
    }

    [Fact]
    public void Errors_go_to_the_log_file_in_runcs_formats_and_systemd_cgroups_are_refused_by_name()
    {
        using var dir = new TempDirectory("initos-runc-log-");
        var json = Path.Combine(dir.Path, "log.json");
        var missing = JailCli.Run("--log", json, "--log-format", "json", "state", "no-such-jail");
        Assert.Equal(1, missing.Code);
        var line = JsonNode.Parse(File.ReadAllLines(json).Single())!;
        Assert.Equal("error", line["level"]!.GetValue<string>());
        Assert.Contains("jail no-such-jail does not exist", line["msg"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(DateTime.TryParse(line["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out _));

        var text = Path.Combine(dir.Path, "log.txt");
        var refused = JailCli.Run("--systemd-cgroup", "--log", text, "list");
        Assert.Equal(1, refused.Code);
        Assert.Contains("--systemd-cgroup is not supported", refused.Err, StringComparison.Ordinal);
        Assert.Matches("^time=\"[^\"]+\" level=error msg=\"--systemd-cgroup is not supported", File.ReadAllText(text));
        Assert.Equal(2, JailCli.Run("--log-format", "xml", "list").Code);
    }

    [Fact]
    public void Spec_writes_a_config_that_runs_as_written_and_never_overwrites_one()
    {
        using var bundle = new TestBundle();
        File.Delete(Path.Combine(bundle.Directory, "config.json"));
        Assert.Equal(0, JailCli.Run("spec", "--bundle", bundle.Directory).Code);
        var again = JailCli.Run("spec", "--bundle", bundle.Directory);
        Assert.Equal(1, again.Code);
        Assert.Contains("exists; remove it first", again.Err, StringComparison.Ordinal);

        // Only the program changed: the default mounts, namespaces and masks run here as written.
        var path = Path.Combine(bundle.Directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["process"]!["args"] = new JsonArray("sh", "-c", "echo spec-ok; cat /proc/self/status | grep CapEff");
        File.WriteAllText(path, config.ToJsonString());
        foreach (var mountPoint in new[] { "dev", "sys" })
        {
            Directory.CreateDirectory(Path.Combine(bundle.Rootfs, mountPoint));
        }
        var run = JailCli.Run("run", "--bundle", bundle.Directory, JailCli.NewId("spec"));
        Assert.True(run.Code == 0, run.ToString());
        Assert.Contains("spec-ok", run.Out, StringComparison.Ordinal);
        Assert.Contains("CapEff:\t0000000020000420", run.Out, StringComparison.Ordinal); // AUDIT_WRITE, KILL, NET_BIND_SERVICE

        using var rootless = new TempDirectory("initos-runc-rootless-");
        Assert.Equal(0, JailCli.Run("spec", "--rootless", "--bundle", rootless.Path).Code);
        var mapped = JsonNode.Parse(File.ReadAllText(Path.Combine(rootless.Path, "config.json")))!["linux"]!;
        Assert.Contains(mapped["namespaces"]!.AsArray(), n => n!["type"]!.GetValue<string>() == "user");
        Assert.Equal(0, mapped["uidMappings"]![0]!["hostID"]!.GetValue<int>()); // the caller: root here
    }

    [Fact]
    public void Features_says_what_the_parser_accepts()
    {
        var result = JailCli.Run("features");
        Assert.Equal(0, result.Code);
        using var features = JsonDocument.Parse(result.Out);
        var linux = features.RootElement.GetProperty("linux");
        Assert.Equal(["mount", "cgroup", "uts", "ipc", "user", "pid", "network"], linux.GetProperty("namespaces").EnumerateArray().Select(n => n.GetString()));
        Assert.Contains("SCMP_CMP_MASKED_EQ", linux.GetProperty("seccomp").GetProperty("operators").EnumerateArray().Select(o => o.GetString()));
        Assert.Contains("CAP_SYS_ADMIN", linux.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.True(linux.GetProperty("cgroup").GetProperty("v2").GetBoolean());
        Assert.False(linux.GetProperty("cgroup").GetProperty("systemd").GetBoolean());
        Assert.Contains("rbind", features.RootElement.GetProperty("mountOptions").EnumerateArray().Select(o => o.GetString()));
    }

    /// <summary>
    /// A terminal: true jail made by create --console-socket: the pty's master arrives over the
    /// socket (SCM_RIGHTS, the name as the message), and what the program writes on its
    /// terminal (/dev/console, a tty) is read from it; without a socket create refuses, naming it.
    /// </summary>
    [Fact]
    public void Create_with_a_console_socket_hands_over_the_terminal()
    {
        using var work = new TempDirectory("initos-console-");
        using var bundle = new TestBundle();
        bundle.Process["terminal"] = true;
        bundle.WithShell("[ -t 0 ] && [ -t 1 ] && echo \"on-a-terminal $(readlink /proc/$$/fd/1)\"; exit 0");
        var refused = JailCli.Run("create", "--bundle", bundle.Save(), JailCli.NewId("noconsole"));
        Assert.Equal(1, refused.Code);
        Assert.Contains("process.terminal is true, but create returns at once and has no --console-socket", refused.Err, StringComparison.Ordinal);

        var socket = Path.Combine(work.Path, "console.sock");
        var receiver = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3", ["-c", ConsoleReceiver, socket]) { RedirectStandardOutput = true })!;
        WaitFor(() => File.Exists(socket), done => done);
        var id = JailCli.NewId("console");
        try
        {
            var created = JailCli.Run("create", "--bundle", bundle.Directory, "--console-socket", socket, id);
            Assert.True(created.Code == 0, created.ToString());
            Assert.Equal(0, JailCli.Run("start", id).Code);
            Assert.True(receiver.WaitForExit(20_000), "the receiver read the terminal to its end");
            var received = receiver.StandardOutput.ReadToEnd();
            Assert.Matches(@"name=/dev/pts/\d+", received);
            Assert.Contains("on-a-terminal /dev/console", received, StringComparison.Ordinal);
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
            if (!receiver.HasExited)
            {
                receiver.Kill();
            }
        }
    }

    /// <summary>Listens on argv[1], takes one fd with SCM_RIGHTS, prints the message and everything read from the fd.</summary>
    private const string ConsoleReceiver = """
        import os, socket, sys
        s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
        c, _ = s.accept()
        msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
        print("name=" + msg.decode(), flush=True)
        out = b""
        while True:
            try: d = os.read(fds[0], 4096)
            except OSError: break
            if not d: break
            out += d
        print(out.decode(errors="replace"), flush=True)
        """;

    /// <summary>--preserve-fds: the caller's fd 3 reaches the program at 3; an fd above the count does not.</summary>
    [Fact]
    public void Preserved_fds_reach_the_program_and_no_others()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; cat <&3");
        var result = JailCli.RunWith("exec 3<<<'through-fd-3' 4</dev/null", "run", "--preserve-fds", "1", "--bundle", bundle.Save(), JailCli.NewId("fds"));
        Assert.True(result.Code == 0, result.ToString());
        Assert.Contains("through-fd-3", result.Out, StringComparison.Ordinal);
        // ls's own directory fd is the 4 it lists; the caller's fd 4 is not there (it would be 5 then).
        Assert.StartsWith("0 1 2 3 4 \n", result.Out, StringComparison.Ordinal);
    }

    private static T WaitFor<T>(Func<T> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            Thread.Sleep(50);
        }
    }
}

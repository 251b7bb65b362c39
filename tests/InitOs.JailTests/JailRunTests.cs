using System.Text.Json.Nodes;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>`initos jail run` of a busybox bundle, privileged, as root on this machine.</summary>
[Collection(JailCollection.Name)]
public sealed class JailRunTests
{
    [Fact]
    public void The_program_is_pid_1_of_its_own_namespaces_and_its_status_is_the_commands()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("echo host=$(hostname); echo pid=$$; ls /proc | grep -c '^[0-9]'; exit 7");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("run"));

        Assert.True(result.Code == 7, result.ToString());
        Assert.Contains("host=testjail", result.Out, StringComparison.Ordinal);
        // As runc makes it: the program itself is PID 1 of the jail.
        Assert.Contains("pid=1\n", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void With_the_tini_annotation_InitOS_is_the_jails_init_in_front_of_the_program()
    {
        using var bundle = new TestBundle();
        bundle.Config["annotations"] = new JsonObject { ["org.initos.jail.tini"] = "true" };
        bundle.WithShell("echo pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 7");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("tini"));

        Assert.True(result.Code == 7, result.ToString());
        Assert.DoesNotContain("pid=1\n", result.Out, StringComparison.Ordinal);
        Assert.Contains("initos jail-init", result.Out, StringComparison.Ordinal);
    }

    /// <summary>
    /// This machine has the hybrid cgroup layout (FACTS.md): limits cannot be applied through v2
    /// here, so a bundle that asks for them is refused, naming them, and nothing is left behind.
    /// (On a pure cgroup2 host the limits are applied; JailCgroupBootTests proves them in a guest.)
    /// </summary>
    [Fact]
    public void Limits_on_a_host_without_cgroup2_are_refused_by_name_and_nothing_is_left()
    {
        Assert.NotEqual("cgroup2", MountTypeOf("/sys/fs/cgroup"));
        using var bundle = new TestBundle();
        bundle.Config["linux"]!["resources"] = JsonNode.Parse("""{ "memory": { "limit": 33554432 }, "pids": { "limit": 20 } }""");
        var id = JailCli.NewId("limits");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), id);

        Assert.True(result.Code == 1, result.ToString());
        Assert.Contains("linux.resources asks for memory.max, pids.max, but /sys/fs/cgroup is not a cgroup2 mount", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/run/initos/jails/{id}"), "no state is left");
    }

    private static string? MountTypeOf(string mountPoint) =>
        File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Where(f => f[4] == mountPoint)
            .Select(f => f[Array.IndexOf(f, "-") + 1]).LastOrDefault();

    [Fact]
    public void The_program_gets_the_specs_capabilities_no_new_privs_a_seccomp_filter_and_a_new_session()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; echo sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("caps"));

        Assert.True(result.Code == 0, result.ToString());
        // The OCI default set: CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
        Assert.Contains("CapEff:\t0000000020000420", result.Out, StringComparison.Ordinal);
        Assert.Contains("CapBnd:\t0000000020000420", result.Out, StringComparison.Ordinal);
        Assert.Contains("NoNewPrivs:\t1", result.Out, StringComparison.Ordinal);
        Assert.Contains("Seccomp:\t2", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Masked_paths_read_empty_and_read_only_paths_refuse_writes()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("echo timer_list=$(wc -c < /proc/timer_list); echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("mask"));

        Assert.True(result.Code == 0, result.ToString());
        Assert.True(new FileInfo("/proc/timer_list").Exists, "the host has /proc/timer_list to hide");
        Assert.Contains("timer_list=0", result.Out, StringComparison.Ordinal);
        Assert.Contains("refused", result.Out, StringComparison.Ordinal);
        Assert.Contains("Read-only file system", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_specs_sysctls_are_set_even_though_proc_sys_is_then_read_only()
    {
        using var bundle = new TestBundle();
        bundle.Config["linux"]!["sysctl"] = new System.Text.Json.Nodes.JsonObject { ["kernel.domainname"] = "initos-sysctl" };
        bundle.WithShell("cat /proc/sys/kernel/domainname; echo x > /proc/sys/kernel/domainname || echo refused");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("sysctl"));

        Assert.True(result.Code == 0, result.ToString());
        Assert.Equal(["initos-sysctl", "refused"], result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_readonly_root_refuses_writes_and_dev_is_minimal()
    {
        using var bundle = new TestBundle();
        bundle.Config["root"]!["readonly"] = true;
        bundle.WithShell("touch /etc/x && echo wrote || echo refused; ls /dev | tr '\\n' ' '");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("ro"));

        Assert.True(result.Code == 0, result.ToString());
        Assert.Contains("refused", result.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(bundle.Rootfs, "etc/x")));
        Assert.Contains("fd full null ptmx random stderr stdin stdout tty urandom zero", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsupported_field_is_an_error_naming_it_and_nothing_is_left_behind()
    {
        using var bundle = new TestBundle();
        bundle.Process["oomScoreAdj"] = 10;
        var id = JailCli.NewId("bad");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), id);

        Assert.Equal(1, result.Code);
        Assert.Contains("process.oomScoreAdj: not supported by InitOS", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/run/initos/jails/{id}"));
    }

    /// <summary>
    /// Hooks run on the host with the jail's state on stdin: prestart before the program (its pid
    /// alive, status creating), poststart after, poststop once it is gone; a failing prestart
    /// stops the jail, naming the hook, and leaves nothing behind.
    /// </summary>
    [Fact]
    public void Hooks_run_on_the_host_with_the_state_and_a_failing_prestart_stops_the_jail()
    {
        using var log = new TempDirectory("initos-hooks-");
        using var bundle = new TestBundle();
        JsonArray Hook(string name) =>
        [
            new JsonObject
            {
                ["path"] = "/bin/sh",
                ["args"] = new JsonArray("sh", "-c", $"cat > {log.Path}/{name}; echo \"$MARK\" >> {log.Path}/{name}"),
                ["env"] = new JsonArray($"MARK=from-{name}"),
            },
        ];
        bundle.Config["hooks"] = new JsonObject { ["prestart"] = Hook("prestart"), ["poststart"] = Hook("poststart"), ["poststop"] = Hook("poststop") };
        bundle.WithShell("echo program-ran");
        var id = JailCli.NewId("hooks");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), id);

        Assert.True(result.Code == 0, result.ToString());
        Assert.Contains("program-ran", result.Out, StringComparison.Ordinal);
        var prestart = File.ReadAllText(Path.Combine(log.Path, "prestart"));
        Assert.Matches($"\"id\": *\"{id}\"", prestart);
        Assert.Matches("\"status\": *\"creating\"", prestart);
        Assert.Contains("from-prestart", prestart, StringComparison.Ordinal);
        Assert.Contains("from-poststart", File.ReadAllText(Path.Combine(log.Path, "poststart")), StringComparison.Ordinal);
        Assert.Contains("from-poststop", File.ReadAllText(Path.Combine(log.Path, "poststop")), StringComparison.Ordinal);

        bundle.Config["hooks"] = JsonNode.Parse("""{ "prestart": [ { "path": "/bin/false" } ] }""");
        var failing = JailCli.Run("run", "--bundle", bundle.Save(), id);
        Assert.Equal(1, failing.Code);
        Assert.Contains("prestart hook /bin/false failed: exit status 1", failing.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("program-ran", failing.Out, StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/run/initos/jails/{id}"));

        bundle.Config["hooks"] = JsonNode.Parse("""{ "startContainer": [ { "path": "/bin/true" } ] }""");
        var inside = JailCli.Run("run", "--bundle", bundle.Save(), id);
        Assert.Equal(1, inside.Code);
        Assert.Contains("hooks.startContainer: not supported by InitOS", inside.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_of_a_spec_is_listed_with_its_field()
    {
        using var bundle = new TestBundle();
        bundle.Process["rlimits"] = JsonNode.Parse("""[ { "type": "RLIMIT_BOGUS", "soft": 1, "hard": 1 } ]""");
        bundle.Process["cwd"] = "relative";
        bundle.Config["linux"]!["namespaces"] = JsonNode.Parse("""[ { "type": "pid" }, { "type": "time" } ]""");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("bad"));

        Assert.Equal(1, result.Code);
        foreach (var field in new[] { "process.rlimits[0].type:", "process.cwd:", "linux.namespaces[1].type:", "linux.namespaces: a mount namespace is required" })
        {
            Assert.Contains(field, result.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_missing_program_is_127_with_the_name()
    {
        using var bundle = new TestBundle();
        bundle.WithArgs("no-such-program");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("missing"));

        Assert.Equal(127, result.Code);
        Assert.Contains("no-such-program", result.Err, StringComparison.Ordinal);
    }
}

using System.Text.Json.Nodes;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>Mount propagation (host → jail only) and unprivileged (user-namespace) jails.</summary>
[Collection(JailCollection.Name)]
public sealed class JailMountAndUserTests
{
    [Fact]
    public void A_host_mount_made_after_start_appears_in_the_jail_and_a_jail_mount_never_reaches_the_host()
    {
        using var bundle = new TestBundle();
        using var shared = new TempDirectory("initos-shared-");
        var volume = shared.Path;
        Directory.CreateDirectory(Path.Combine(volume, "from-host"));
        Directory.CreateDirectory(Path.Combine(volume, "from-jail"));
        // The host side is a shared mount (what InitOS as PID 1 makes of /); this host's / is private.
        Tool.Run("mount", "--bind", volume, volume);
        Tool.Run("mount", "--make-shared", volume);
        var id = JailCli.NewId("prop");
        try
        {
            bundle.Config["mounts"]!.AsArray().Add(JsonNode.Parse($$"""{ "destination": "/data", "type": "bind", "source": "{{volume}}", "options": ["rbind"] }"""));
            bundle.WithCapabilities("CAP_SYS_ADMIN");
            bundle.WithShell("mount -t tmpfs jailfs /data/from-jail && touch /jail-mounted; " +
                             "while [ ! -e /data/from-host/marker ]; do sleep 0.05; done; touch /saw-host-mount; exec sleep 600");
            Assert.Equal(0, JailCli.Run("create", "--bundle", bundle.Save(), id).Code);
            Assert.Equal(0, JailCli.Run("start", id).Code);
            WaitForFile(Path.Combine(bundle.Rootfs, "jail-mounted"));
            Assert.DoesNotContain(Path.Combine(volume, "from-jail"), File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);

            Tool.Run("mount", "-t", "tmpfs", "hostfs", Path.Combine(volume, "from-host"));
            File.WriteAllText(Path.Combine(volume, "from-host/marker"), "host");
            WaitForFile(Path.Combine(bundle.Rootfs, "saw-host-mount"));
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
            Tool.Run("umount", "-R", volume);
        }
    }

    [Fact]
    public void An_unprivileged_jail_is_root_inside_and_its_files_belong_to_its_host_range()
    {
        using var bundle = new TestBundle();
        using var output = new TempDirectory("initos-userns-out-");
        const int HostBase = 231072;
        Tool.Run("chown", $"{HostBase}:{HostBase}", output.Path);
        var linux = bundle.Config["linux"]!.AsObject();
        linux["namespaces"]!.AsArray().Add(JsonNode.Parse("""{ "type": "user" }"""));
        linux["uidMappings"] = JsonNode.Parse($$"""[ { "containerID": 0, "hostID": {{HostBase}}, "size": 65536 } ]""");
        linux["gidMappings"] = JsonNode.Parse($$"""[ { "containerID": 0, "hostID": {{HostBase}}, "size": 65536 } ]""");
        bundle.Config["mounts"]!.AsArray().Add(JsonNode.Parse($$"""{ "destination": "/out", "type": "bind", "source": "{{output.Path}}", "options": ["rbind"] }"""));
        // Mount points exist in the image: the jail's root (a host uid of its range) cannot add them to a root-owned image.
        Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "out"));
        bundle.WithShell("id -u; touch /out/made-inside; cat /proc/self/uid_map");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("userns"));

        Assert.True(result.Code == 0, result.ToString());
        Assert.StartsWith("0\n", result.Out, StringComparison.Ordinal);
        var map = result.Out.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", HostBase.ToString(System.Globalization.CultureInfo.InvariantCulture), "65536"], map);
        var owner = Tool.Run("stat", "-c", "%u:%g", Path.Combine(output.Path, "made-inside")).Trim();
        Assert.Equal($"{HostBase}:{HostBase}", owner);
    }

    [Fact]
    public void Unprivileged_jails_without_mappings_get_host_ranges_no_two_share_and_delete_frees_them()
    {
        using var bundle = SleeperInItsOwnUserNamespace();
        string first = JailCli.NewId("range"), second = JailCli.NewId("range");
        try
        {
            var a = JailCli.Run("create", "--bundle", bundle.Directory, first);
            var b = JailCli.Run("create", "--bundle", bundle.Directory, second);
            Assert.True(a.Code == 0 && b.Code == 0, $"{a}\n{b}");
            var rangeA = HostRangeOf(first);
            var rangeB = HostRangeOf(second);
            Assert.NotEqual(rangeA, rangeB);
            Assert.True(rangeA >= 1u << 20 && rangeB >= 1u << 20, $"{rangeA} {rangeB}");
            Assert.True(File.Exists($"/run/initos/idranges/{rangeA}"));
            Assert.Equal(0, JailCli.Run("delete", "--force", first).Code);
            Assert.False(File.Exists($"/run/initos/idranges/{rangeA}"), "delete did not free the range");
        }
        finally
        {
            JailCli.Run("delete", "--force", first);
            JailCli.Run("delete", "--force", second);
        }
    }

    /// <summary>
    /// Regression: the cloned child of an unprivileged create became root of its user namespace
    /// through glibc's setresuid/setresgid, which after a raw clone may wait for ever on a lock
    /// copied from a parent thread (1 create in ~15 hung under load). Many creates in a row.
    /// </summary>
    [Fact]
    public void Many_unprivileged_creates_in_a_row_all_finish()
    {
        using var bundle = SleeperInItsOwnUserNamespace();
        // One shell runs the loop: a created jail keeps the command's stdio, so output goes to /dev/null.
        string prefix = JailCli.NewId("many");
        var script = $$"""
            for i in $(seq 1 60); do
              timeout 20 "$0" jail create --bundle {{bundle.Directory}} {{prefix}}-$i </dev/null >/dev/null 2>&1; code=$?
              "$0" jail delete --force {{prefix}}-$i >/dev/null 2>&1
              [ $code = 0 ] || { echo "create $i ended $code (124: hung)" >&2; exit 1; }
            done
            echo all created
            """;
        var box = RepoPaths.Require(RepoPaths.Box, "make box");
        var result = Tool.Run("bash", "-c", script, box);
        Assert.Contains("all created", result, StringComparison.Ordinal);
    }

    /// <summary>A bundle whose program sleeps, with a user namespace and no mappings (InitOS picks the range).</summary>
    private static TestBundle SleeperInItsOwnUserNamespace()
    {
        var bundle = new TestBundle();
        bundle.Config["linux"]!["namespaces"]!.AsArray().Add(JsonNode.Parse("""{ "type": "user" }"""));
        bundle.WithShell("exec sleep 600");
        bundle.Save();
        return bundle;
    }

    /// <summary>The host id that uid 0 of the jail's init maps to (from the host's view of its uid_map).</summary>
    private static uint HostRangeOf(string id)
    {
        var state = JailCli.Run("state", id);
        using var json = System.Text.Json.JsonDocument.Parse(state.Out);
        var pid = json.RootElement.GetProperty("pid").GetInt32();
        var map = File.ReadAllText($"/proc/{pid}/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", map[0]);
        Assert.Equal("65536", map[2].Trim());
        return uint.Parse(map[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void WaitForFile(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {path}");
            Thread.Sleep(20);
        }
    }
}

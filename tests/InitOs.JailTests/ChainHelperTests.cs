using System.Text.Json.Nodes;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// The chained helpers in a real jail, as a user writes them: tini in front, then mount, env,
/// sshd, wait-for and user, each exec'ing the next, and the app last.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class ChainHelperTests
{
    [Fact]
    public async Task A_chain_mounts_sets_the_environment_opens_a_debug_door_waits_and_runs_the_app_as_its_user()
    {
        using var bundle = new TestBundle();
        using var keys = new TempDirectory("initos-chain-keys-");
        var key = Path.Combine(keys.Path, "id");
        Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
        int port = LocalRegistry.FreePort();
        bundle.WithProgram(RepoPaths.Require(RepoPaths.Box, "make box"), "/initos")
            .WithProgram("/usr/sbin/dropbear", "/usr/sbin/dropbear")
            .WithFile("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
            .WithFile("/etc/group", "root:x:0:\nvideo:x:44:app\napp:x:1000:\n")
            .WithFile("/etc/debug_keys", File.ReadAllText(key + ".pub"))
            .WithFile("/etc/app.env", "# the app's settings\nGREETING=hello world\n");
        Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "root"));
        // The host's network namespace: the door listens where the test is.
        var namespaces = bundle.Config["linux"]!["namespaces"]!.AsArray();
        namespaces.Remove(namespaces.Single(n => n!["type"]!.GetValue<string>() == "network"));
        bundle.WithCapabilities("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_CHOWN");
        bundle.WithArgs(
            "/initos", "tini", "--",
            "/initos", "chain", "mount", "-t", "tmpfs", "-o", "size=1m,mode=1777", "tmpfs", "/scratch", "--",
            "/initos", "chain", "env", "/etc/app.env", "--",
            "/initos", "chain", "sshd", "--port", $"{port}", "--keys", "/etc/debug_keys", "--dropbear", "/usr/sbin/dropbear", "--",
            "/initos", "chain", "wait-for", "file:/scratch/go", "--timeout", "40", "--",
            "/initos", "chain", "user", "app", "--",
            "sh", "-c", "id; echo \"greeting=$GREETING home=$HOME\"; exit 7");
        var run = Task.Run(() => JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("chain")));

        // An admin logs in while the chain waits: the app is not started yet, the keys are in the
        // door's own tmpfs. Killing dropbear's listener: the keeper starts it again.
        var first = Ssh(port, key, "ps -o pid,ppid,args; ls /root/.ssh; kill $(cat /root/.ssh/dropbear.pid)", run);
        Assert.Contains("chain wait-for file:/scratch/go", first, StringComparison.Ordinal);
        Assert.Contains("authorized_keys", first, StringComparison.Ordinal);
        // The keeper is the tini's child (forked twice), not the app's: tini reaps it.
        var keeper = first.Split('\n').Single(l => l.Contains("chain sshd-keeper", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(keeper[1] == "1", first);
        Ssh(port, key, "touch /scratch/go", run);

        var result = await run;
        Assert.True(result.Code == 7, result.ToString());
        Assert.Contains("uid=1000(app) gid=1000(app)", result.Out, StringComparison.Ordinal);
        Assert.Contains("44(video)", result.Out, StringComparison.Ordinal);
        Assert.Contains("greeting=hello world home=/home/app", result.Out, StringComparison.Ordinal);
        Assert.Contains("initos chain sshd: /usr/sbin/dropbear", result.Err, StringComparison.Ordinal);
        // Nothing of the door was written to the jail's files.
        Assert.False(Directory.Exists(Path.Combine(bundle.Rootfs, "root/.ssh")));
        Assert.False(Directory.Exists(Path.Combine(bundle.Rootfs, "etc/dropbear")));
    }

    [Fact]
    public void A_helper_that_fails_stops_the_chain_with_125_naming_what_was_wrong()
    {
        using var bundle = new TestBundle();
        bundle.WithProgram(RepoPaths.Require(RepoPaths.Box, "make box"), "/initos")
            .WithFile("/etc/app.env", "GOOD=1\nnot a setting\n");
        bundle.WithArgs("/initos", "chain", "env", "/etc/app.env", "--", "sh", "-c", "echo app ran");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("chainfail"));
        Assert.True(result.Code == 125, result.ToString());
        Assert.Contains("initos chain env: /etc/app.env:2: \"not a setting\" is not KEY=VALUE", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("app ran", result.Out, StringComparison.Ordinal);

        // Without CAP_SYS_ADMIN the door is refused by name, before the app.
        bundle.WithProgram("/usr/sbin/dropbear", "/usr/sbin/dropbear").WithFile("/etc/app.env", "GOOD=1\n")
            .WithFile("/etc/keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b\n");
        bundle.WithArgs("/initos", "chain", "sshd", "--port", "2222", "--keys", "/etc/keys", "--", "sh", "-c", "echo app ran");
        var refused = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("chainfail"));
        Assert.True(refused.Code == 125, refused.ToString());
        Assert.Contains("needs CAP_SYS_ADMIN", refused.Err, StringComparison.Ordinal);
    }

    /// <summary>ssh as root with <paramref name="key"/>, retried while the door comes up (or comes back).</summary>
    private static string Ssh(int port, string key, string command, Task<JailCli.Result> jail)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var result = Tool.Exec("ssh", ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=5", "-i", key, "-p", $"{port}", "root@127.0.0.1", command], timeout: TimeSpan.FromSeconds(20));
            if (result.Code == 0)
            {
                return result.Out;
            }
            if (DateTime.UtcNow > deadline || jail.IsCompleted)
            {
                throw new InvalidOperationException($"ssh to the chain's door: {result}\n--- the jail: {(jail.IsCompleted ? jail.Result.ToString() : "running")}");
            }
            Thread.Sleep(200);
        }
    }
}

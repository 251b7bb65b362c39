using InitOs.TestKit;
using InitOs.Tools;

namespace InitOs.JailTests;

/// <summary>
/// Debian's podman with InitOS as its runtime (`--runtime` pointing at the multi-call binary under
/// the name initos-runc): conmon drives `initos jail` as it drives runc. A rootfs and an imported
/// image; the exit code and output, exec (with its exit code), stop, and an interactive -it
/// session on a terminal the test drives. The network is a namespace the test makes (podman's
/// spec names it by path, which the jail joins); this host lacks CAP_SYS_RESOURCE, so the
/// rlimits podman would raise are given at the host's values.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class PodmanRuntimeTests : IDisposable
{
    private static readonly string[] Limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
    private readonly TempDirectory _dir = new("initos-podman-");
    private readonly string _runtime;
    private readonly string _netns = "initos-podman-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _containers = [];
    private readonly string _image = "localhost/initos-test-" + Guid.NewGuid().ToString("N")[..8];
    // podman's machine-wide blob cache and CNI lock, removed after when these tests made them.
    private readonly RemovedAfterwards _blobCache = new("/var/lib/containers");
    private readonly RemovedAfterwards _networkLock = new("/etc/cni/net.d/cni.lock");

    public PodmanRuntimeTests()
    {
        _runtime = Path.Combine(_dir.Path, "initos-runc");
        File.CreateSymbolicLink(_runtime, RepoPaths.Require(RepoPaths.Box, "make box"));
        Tool.Run("ip", "netns", "add", _netns);
    }

    /// <summary>podman with a storage and run-time state of its own in the scratch directory (vfs: no mounts), so nothing is left on the machine.</summary>
    private string[] Podman(params string[] args) =>
        ["--root", Path.Combine(_dir.Path, "storage"), "--runroot", Path.Combine(_dir.Path, "run"), "--tmpdir", Path.Combine(_dir.Path, "tmp"),
         "--events-backend", "none", "--storage-driver", "vfs", "--runtime", _runtime, .. args];

    private ExternalTool.Result Run(params string[] args) => Tool.Exec("podman", Podman(args), timeout: TimeSpan.FromMinutes(2));

    private string[] RunArgs(TestBundle bundle, string[] flags, params string[] command) =>
        ["run", .. flags, .. Limits, "--network", $"ns:/run/netns/{_netns}", "--rootfs", bundle.Rootfs, .. command];

    [Fact]
    public void A_rootfs_runs_with_its_output_and_exit_code_and_exec_and_stop_work()
    {
        using var bundle = new TestBundle();
        var once = Run(RunArgs(bundle, ["--rm"], "/bin/sh", "-c", "echo hello-from-podman; exit 3"));
        Assert.True(once.Code == 3, once.ToString());
        Assert.Contains("hello-from-podman", once.Out, StringComparison.Ordinal);

        var detached = Run(RunArgs(bundle, ["-d"], "/bin/sh", "-c", "echo started; trap 'echo got-term; exit 0' TERM; while :; do sleep 0.1; done"));
        Assert.True(detached.Code == 0, detached.ToString());
        var id = detached.Out.Trim();
        _containers.Add(id);

        var exec = Run("exec", id, "/bin/sh", "-c", "echo in-exec; exit 4");
        Assert.True(exec.Code == 4, exec.ToString());
        Assert.Contains("in-exec", exec.Out, StringComparison.Ordinal);

        var stop = Run("stop", "-t", "10", id);
        Assert.True(stop.Code == 0, stop.ToString());
        var logs = Run("logs", id);
        Assert.Contains("started", logs.Out, StringComparison.Ordinal);
        Assert.Contains("got-term", logs.Out, StringComparison.Ordinal);
        Assert.Contains("Exited (0)", Run("ps", "-a", "--filter", $"id={id}").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interactive_session_runs_on_a_terminal()
    {
        using var bundle = new TestBundle();
        var podman = string.Join(' ', Podman(RunArgs(bundle, ["--rm", "-it"], "/bin/sh")).Select(Quote));
        var session = Tool.Exec("bash", ["-c", $"printf 'echo inside-$((6*7)); [ -t 0 ] && echo stdin-is-a-terminal; exit 5\\n' | script -qec {Quote("podman " + podman)} /dev/null"], timeout: TimeSpan.FromMinutes(2));

        Assert.True(session.Code == 5, session.ToString());
        Assert.Contains("inside-42", session.Out, StringComparison.Ordinal);
        Assert.Contains("stdin-is-a-terminal", session.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_imported_image_runs()
    {
        using var bundle = new TestBundle();
        var tar = Path.Combine(_dir.Path, "rootfs.tar");
        Tool.Run("tar", "-C", bundle.Rootfs, "-cf", tar, ".");
        var imported = Tool.Exec("podman", Podman("import", tar, _image));
        Assert.True(imported.Code == 0, imported.ToString());

        var run = Run(["run", "--rm", .. Limits, "--network", $"ns:/run/netns/{_netns}", _image, "/bin/sh", "-c", "echo from-the-image; exit 7"]);
        Assert.True(run.Code == 7, run.ToString());
        Assert.Contains("from-the-image", run.Out, StringComparison.Ordinal);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public void Dispose()
    {
        foreach (var id in _containers)
        {
            Tool.Exec("podman", Podman("rm", "-f", id));
        }
        Tool.Exec("podman", Podman("rmi", "-f", _image));
        Tool.Exec("ip", ["netns", "delete", _netns]);
        _networkLock.Dispose();
        _blobCache.Dispose();
        _dir.Dispose();
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// SECURITY.md's known jail escapes, each tried from inside a jail by Escapes/jail-escape.c
/// (or by the jail's own shell); every one must be BLOCKED. Where a capability would make the
/// attempt meaningful (CAP_SYS_CHROOT for chroot, CAP_MKNOD, CAP_SYS_MODULE, CAP_NET_RAW's
/// absence) the jail is given exactly that.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class EscapeTests : IDisposable
{
    private readonly string _marker = Path.Combine(Path.GetTempPath(), $"initos-host-marker-{Guid.NewGuid():N}");

    public EscapeTests() => File.WriteAllText(_marker, "host");

    public void Dispose() => File.Delete(_marker);

    private static JailCli.Result Escape(TestBundle bundle, string? bashPrefix, params string[] args)
    {
        bundle.WithArgs(["/bin/jail-escape", .. args]);
        return JailCli.RunWith(bashPrefix, "run", "--bundle", bundle.Save(), JailCli.NewId("escape"));
    }

    private static void AssertBlocked(JailCli.Result result)
    {
        Assert.True(result.Out.Contains("BLOCKED:", StringComparison.Ordinal), result.ToString());
        Assert.False(result.Out.Contains("ESCAPED", StringComparison.Ordinal), result.ToString());
        Assert.True(result.Code == 0, result.ToString());
    }

    [Fact]
    public void Chroot_escape_with_CAP_SYS_CHROOT_stays_in_the_jail()
    {
        using var bundle = new TestBundle();
        bundle.WithCapabilities("CAP_SYS_CHROOT");
        AssertBlocked(Escape(bundle, null, "chroot", _marker));
    }

    [Fact]
    public void An_inherited_host_directory_fd_does_not_reach_the_jail()
    {
        using var bundle = new TestBundle();
        // The command that starts the jail holds fds 7 and 8 on host directories, not close-on-exec.
        AssertBlocked(Escape(bundle, "exec 7</ 8<" + Path.GetTempPath(), "fd", _marker));
    }

    [Fact]
    public void The_jails_init_binary_cannot_be_written_through_proc_even_with_every_capability()
    {
        var box = RepoPaths.Box;
        var before = SHA256.HashData(File.ReadAllBytes(box));
        using var bundle = new TestBundle();
        bundle.WithCapabilities(HostCapabilities());
        bundle.Process["noNewPrivileges"] = false;
        AssertBlocked(Escape(bundle, null, "exe"));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(box)));
    }

    [Fact]
    public void A_host_process_cannot_be_killed_from_a_jail()
    {
        using var victim = Process.Start("sleep", "600");
        try
        {
            using var bundle = new TestBundle();
            bundle.WithCapabilities("CAP_KILL");
            AssertBlocked(Escape(bundle, null, "kill", victim.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.False(victim.HasExited);
        }
        finally
        {
            victim.Kill();
        }
    }

    [Fact]
    public void A_raw_socket_needs_CAP_NET_RAW()
    {
        using var bundle = new TestBundle();
        AssertBlocked(Escape(bundle, null, "raw-socket"));
    }

    [Fact]
    public void A_disk_device_node_cannot_be_made_even_with_CAP_MKNOD()
    {
        using var bundle = new TestBundle();
        bundle.WithCapabilities("CAP_MKNOD");
        AssertBlocked(Escape(bundle, null, "mknod"));
    }

    [Fact]
    public void A_kernel_module_cannot_be_loaded_even_with_CAP_SYS_MODULE()
    {
        using var bundle = new TestBundle();
        bundle.WithCapabilities("CAP_SYS_MODULE");
        AssertBlocked(Escape(bundle, null, "module"));
    }

    [Fact]
    public void The_default_filter_closes_new_user_namespaces_io_uring_bpf_and_the_other_escape_routes_even_with_every_capability()
    {
        using var bundle = new TestBundle();
        bundle.WithCapabilities(HostCapabilities());
        bundle.Process["noNewPrivileges"] = false;
        var result = Escape(bundle, null, "kernel-surface");
        Assert.True(result.Code == 0, result.ToString());
        foreach (var (call, answer) in new[]
        {
            ("unshare-newuser", "Operation not permitted"), ("clone-newuser", "Operation not permitted"),
            ("clone3", "Function not implemented"), ("io_uring_setup", "Function not implemented"),
            ("bpf", "Operation not permitted"), ("userfaultfd", "Operation not permitted"),
            ("perf_event_open", "Operation not permitted"), ("keyctl", "Operation not permitted"),
            ("add_key", "Operation not permitted"), ("open_by_handle_at", "Operation not permitted"),
            ("fsopen", "Function not implemented"),
        })
        {
            Assert.Contains($"BLOCKED: {call}: {answer}\n", result.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_masked_path_reads_nothing()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("echo keys=$(cat /proc/keys | wc -c) sched=$(cat /proc/sched_debug 2>/dev/null | wc -c)");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), JailCli.NewId("masked"));
        Assert.True(result.Code == 0, result.ToString());
        Assert.Contains("keys=0 sched=0", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rootfs_whose_proc_is_a_symlink_is_refused_and_nothing_is_mounted_through_it()
    {
        using var bundle = new TestBundle();
        var target = Path.Combine(bundle.Directory, "elsewhere");
        Directory.CreateDirectory(target);
        Directory.Delete(Path.Combine(bundle.Rootfs, "proc"));
        File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "proc"), target);
        var id = JailCli.NewId("symproc");
        var result = JailCli.Run("run", "--bundle", bundle.Save(), id);

        Assert.Equal(1, result.Code);
        Assert.Contains("/proc is a symlink in the jail's root", result.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(target));
        Assert.DoesNotContain(target, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/run/initos/jails/{id}"));
    }

    /// <summary>Every capability this test process has (a jail cannot be given more; CI lacks CAP_SYS_RESOURCE).</summary>
    private static string[] HostCapabilities()
    {
        var line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var mask = ulong.Parse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return AllCapabilities.Where((_, bit) => (mask & (1UL << bit)) != 0).ToArray();
    }

    private static readonly string[] AllCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];
}

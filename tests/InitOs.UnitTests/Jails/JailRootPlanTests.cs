using InitOs.Jails.Planning;
using InitOs.Jails.Root;
using InitOs.Sys;

namespace InitOs.UnitTests.Jails;

/// <summary>
/// The jail root builder against a recording model of a filesystem: the calls a bundle's plan
/// turns into, in order, and what a hostile image (symlinks where mount targets should be)
/// gets. The real kernel is the JailTests' part; here every case also checks that no fd is
/// left open and that no call followed a link.
/// </summary>
public sealed class JailRootPlanTests
{
    private const string Root = "/jail/root";

    private static readonly DeviceNode NullDevice = new("/dev/null", 'c', 1, 3, 0x1B6, 0, 0);

    private static JailPlan Plan(Func<JailPlan, JailPlan>? change = null)
    {
        var plan = new JailPlan
        {
            Id = "t", BundleDirectory = "/bundle", RootfsSource = "/bundle/rootfs", RootMountPoint = Root,
            CloneFlags = Namespaces.Pid | Namespaces.Mount, RootPropagation = MountFlags.Slave | MountFlags.Recursive,
            CgroupPath = "initos/t",
            Process = new ProcessPlan { Args = ["/bin/true"], Capabilities = new CapabilitySets(0, 0, 0, 0, 0), Seccomp = [] },
        };
        return change is null ? plan : change(plan);
    }

    private static RecordingRootCalls Image()
    {
        var calls = new RecordingRootCalls();
        calls.Directory(Root + "/etc");
        calls.File(Root + "/etc/secret");
        calls.File(Root + "/etc/shadow");
        calls.Directory(Root + "/usr/share");
        calls.Directory("/srv");
        return calls;
    }

    private static void AssertClean(RecordingRootCalls calls)
    {
        Assert.Empty(calls.OpenFds);
        Assert.Empty(calls.Followed);
    }

    [Fact]
    public void A_bundle_becomes_this_sequence_of_calls()
    {
        var calls = Image();
        var plan = Plan(p => p with
        {
            Mounts =
            [
                new MountStep("/data", "bind", "/srv", MountFlags.Bind | MountFlags.ReadOnly, null, MountFlags.None, true),
                new MountStep("/tmp", "tmpfs", "tmpfs", MountFlags.NoSuid, "size=1m", MountFlags.None, false),
            ],
            Devices = [new DeviceNode("/dev/null", 'c', 1, 3, 0x1B6, 0, 0), new DeviceNode("/dev/net/tun", 'c', 10, 200, 0x1B6, 0, 5)],
            MaskedPaths = ["/etc/secret", "/usr/share", "/proc/kcore"],
            ReadonlyPaths = ["/usr"],
            Hostname = "box",
            Sysctls = [new SysctlSetting("net.ipv4.ip_forward", "1")],
            RootReadonly = true,
        });

        new JailRoot(calls).Build(plan);

        Assert.Equal(
        [
            "mount - / - Recursive, Slave",
            "mount /bundle/rootfs /jail/root - Bind, Recursive",
            "mkdir /jail/root/dev",
            "mount tmpfs /jail/root/dev tmpfs NoSuid mode=755,size=65536k",
            "mkdir /jail/root/proc",
            "mount proc /jail/root/proc proc NoSuid, NoDev, NoExec",
            "mkdir /jail/root/data",
            "mount /srv /jail/root/data - Bind",
            "mount - /jail/root/data - ReadOnly, Remount, Bind",
            "mkdir /jail/root/tmp",
            "mount tmpfs /jail/root/tmp tmpfs NoSuid size=1m",
            "mknod /jail/root/dev/null 2000 1:3",
            "chown /jail/root/dev/null 0:0",
            "mkdir /jail/root/dev/net",
            "mknod /jail/root/dev/net/tun 2000 10:200",
            "chown /jail/root/dev/net/tun 0:5",
            "symlink /jail/root/dev/fd -> /proc/self/fd",
            "symlink /jail/root/dev/stdin -> /proc/self/fd/0",
            "symlink /jail/root/dev/stdout -> /proc/self/fd/1",
            "symlink /jail/root/dev/stderr -> /proc/self/fd/2",
            "symlink /jail/root/dev/ptmx -> pts/ptmx",
            "pivot_root /jail/root",
            "mount - /jail/root - Recursive, Slave",
            "umount /jail/root Detach",
            "mount /jail/root/dev/null /jail/root/etc/secret - Bind",
            "mount tmpfs /jail/root/usr/share tmpfs ReadOnly size=0",
            "write /jail/root/proc/sys/net/ipv4/ip_forward 1",
            "mount /jail/root/usr /jail/root/usr - Bind, Recursive",
            "mount - /jail/root/usr - ReadOnly, NoSuid, NoDev, NoExec, Remount, Bind, Recursive",
            "hostname box",
            "mount - /jail/root - ReadOnly, Remount, Bind",
        ], calls.Calls);
        AssertClean(calls);
    }

    [Fact]
    public void An_overlay_root_is_mounted_from_the_image_and_the_pool_slot()
    {
        var calls = Image();
        new JailRoot(calls).Build(Plan(p => p with { Overlay = new OverlayDirs("/pool/slot-0/upper", "/pool/slot-0/work"), Devices = [NullDevice] }));

        Assert.Equal("mount overlay /jail/root overlay None lowerdir=/bundle/rootfs,upperdir=/pool/slot-0/upper,workdir=/pool/slot-0/work", calls.Calls[1]);
        AssertClean(calls);
    }

    [Fact]
    public void A_jail_in_a_user_namespace_gets_the_hosts_device_nodes_bound_not_made()
    {
        var calls = Image();
        calls.CharDevice("/dev/null", 1, 3);
        new JailRoot(calls).Build(Plan(p => p with { CloneFlags = p.CloneFlags | Namespaces.User, Devices = [NullDevice] }));

        Assert.DoesNotContain(calls.Calls, c => c.StartsWith("mknod", StringComparison.Ordinal));
        Assert.Contains("mount /dev/null /jail/root/dev/null - Bind", calls.Calls);
        AssertClean(calls);
    }

    [Fact]
    public void An_image_whose_proc_is_a_symlink_gets_no_mount_there()
    {
        var calls = Image();
        calls.Symlink(Root + "/proc", "/etc");

        var e = Assert.Throws<InvalidOperationException>(() => new JailRoot(calls).Build(Plan()));

        Assert.Equal("/proc is a symlink in the jail's root; InitOS does not follow it for a mount", e.Message);
        Assert.DoesNotContain(calls.Mounts, m => m.Contains(" proc ", StringComparison.Ordinal));
        AssertClean(calls);
    }

    /// <summary>
    /// A symlink on a bind's way is followed inside the jail's root, as if that root were "/"
    /// (runc's way): "/data -> /" leads to the root's own /x, never the host's, and the kernel
    /// is never asked to follow a link (each step opens a real entry).
    /// </summary>
    [Fact]
    public void A_symlink_above_a_bind_target_is_followed_inside_the_root_only()
    {
        var calls = Image();
        calls.Symlink(Root + "/data", "/");
        calls.Symlink(Root + "/up", "../../../..");
        var plan = Plan(p => p with
        {
            Devices = [NullDevice],
            Mounts = [new MountStep("/data/x", "bind", "/srv", MountFlags.Bind, null, MountFlags.None, true), new MountStep("/up/y", "tmpfs", "tmpfs", MountFlags.None, null, MountFlags.None, false)],
        });

        new JailRoot(calls).Build(plan);

        Assert.Contains(calls.Mounts, m => m.StartsWith($"mount /srv {Root}/x ", StringComparison.Ordinal));
        Assert.Contains(calls.Mounts, m => m.StartsWith($"mount tmpfs {Root}/y ", StringComparison.Ordinal));
        Assert.DoesNotContain(calls.Calls, c => c.StartsWith("mkdir /x", StringComparison.Ordinal) || c.StartsWith("mkdir /y", StringComparison.Ordinal));
        AssertClean(calls);
    }

    [Fact]
    public void A_masked_path_the_image_made_a_symlink_is_refused_not_followed()
    {
        var calls = Image();
        calls.Symlink(Root + "/etc/hostname", "/etc/shadow");
        var plan = Plan(p => p with { Devices = [NullDevice], MaskedPaths = ["/etc/hostname"] });

        var e = Assert.Throws<InvalidOperationException>(() => new JailRoot(calls).Build(plan));

        Assert.StartsWith("/etc/hostname is a symlink", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(calls.Mounts, m => m.Contains("/etc/shadow", StringComparison.Ordinal));
        AssertClean(calls);
    }

    [Fact]
    public void Masks_are_refused_when_the_jails_dev_null_is_not_the_null_device()
    {
        var calls = Image();
        var plan = Plan(p => p with { Devices = [new DeviceNode("/dev/null", 'c', 1, 5, 0x1B6, 0, 0)], MaskedPaths = ["/etc/secret"] });

        var e = Assert.Throws<InvalidOperationException>(() => new JailRoot(calls).Build(plan));

        Assert.Equal("/dev/null in the jail is not the null device (1:3)", e.Message);
        Assert.DoesNotContain(calls.Mounts, m => m.Contains("/etc/secret", StringComparison.Ordinal));
        AssertClean(calls);
    }

    [Fact]
    public void A_dot_dot_in_a_mount_destination_is_refused_before_anything_is_opened_under_it()
    {
        var calls = Image();
        var plan = Plan(p => p with { Mounts = [new MountStep("/tmp/../../etc", "tmpfs", "tmpfs", MountFlags.None, null, MountFlags.None, false)] });

        var e = Assert.Throws<InvalidOperationException>(() => new JailRoot(calls).Build(plan));

        Assert.Equal("/tmp/../../etc: .. is not allowed in a jail path", e.Message);
        Assert.DoesNotContain(calls.Calls, c => c.Contains("/tmp", StringComparison.Ordinal));
        AssertClean(calls);
    }

    [Fact]
    public void Every_jail_gets_dev_first_and_a_fresh_proc_whatever_the_spec_lists()
    {
        var pts = new MountStep("/dev/pts", "devpts", "devpts", MountFlags.None, null, MountFlags.None, false);
        var dev = new MountStep("/dev", "tmpfs", "tmpfs", MountFlags.None, null, MountFlags.None, false);

        var steps = JailRoot.WithRequiredMounts([pts, dev]).Select(m => m.Destination).ToList();

        Assert.Equal(["/dev", "/proc", "/dev/pts"], steps);
    }
}

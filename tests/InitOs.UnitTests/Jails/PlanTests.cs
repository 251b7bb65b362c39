using System.Text.Json;
using InitOs.Jails.Network;
using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Jails.Seccomp;
using InitOs.Sys;

namespace InitOs.UnitTests.Jails;

public sealed class PlanTests
{
    private static readonly JsonSerializerOptions Compare = new() { IncludeFields = true };

    [Fact]
    public void The_plan_codec_round_trips_every_field()
    {
        var plan = new JailPlan
        {
            Id = "j1", BundleDirectory = "/b", RootfsSource = "/b/rootfs", RootMountPoint = "/run/initos/jails/j1/root",
            Overlay = new OverlayDirs("/pool/slot-0/upper", "/pool/slot-0/work"), Lease = new PoolLease("/pool", 0, "token"),
            RootReadonly = true, CloneFlags = Namespaces.Pid | Namespaces.Mount, RootPropagation = MountFlags.Slave | MountFlags.Recursive,
            Mounts = [new MountStep("/proc", "proc", "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null, MountFlags.None, false), new MountStep("/data", "bind", "/srv", MountFlags.Bind, "x=1", MountFlags.Slave, true)],
            Devices = [new DeviceNode("/dev/null", 'c', 1, 3, 0x1B6, 0, 0)],
            MaskedPaths = ["/proc/kcore"], ReadonlyPaths = ["/proc/sys"], Sysctls = [new SysctlSetting("net.ipv4.ip_forward", "1")],
            Hostname = "h", UidMap = [new IdMap(0, 100000, 65536)], GidMap = [new IdMap(0, 100000, 65536)],
            Process = new ProcessPlan
            {
                Args = ["/bin/sh", "-c", "true"], Env = ["PATH=/bin"], Cwd = "/tmp", Uid = 1000, Gid = 1000, AdditionalGids = [10, 20], Umask = 0x12,
                Capabilities = new CapabilitySets(1, 2, 3, 4, 5), Rlimits = [new RlimitSetting(7, 1024, 4096)], NoNewPrivileges = true, Seccomp = [1, 2, 3, 4, 5, 6, 7, 8],
            },
            Network = new NetworkPlan(NetworkMode.Bridge, "initos0", "10.88.0.0/16"),
            Limits = [new CgroupSetting("memory.max", "33554432"), new CgroupSetting("pids.max", "max")],
            CgroupPath = "initos/j1",
            ProgramIsInit = true,
            IdmapLower = true,
            Console = "/dev/pts/3",
        };
        var decoded = PlanCodec.Decode(PlanCodec.Encode(plan));
        Assert.Equal(JsonSerializer.Serialize(plan, Compare), JsonSerializer.Serialize(decoded, Compare));
    }

    internal static JailPlan PlanOf(string json)
    {
        var dir = Directory.CreateTempSubdirectory("plan-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "rootfs"));
        try
        {
            return JailPlanner.Plan(new Bundle(dir, Bundle.Parse(json, "config.json")), "t", "/run/initos/jails/t");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private const string Base = """
        { "ociVersion": "1.0.2", "root": { "path": "rootfs" }, "process": { "args": ["/bin/true"] %PROCESS% },
          "linux": { "namespaces": [ { "type": "pid" }, { "type": "mount" } ] %LINUX% } }
        """;

    internal static string Spec(string process = "", string linux = "") => Base.Replace("%PROCESS%", process).Replace("%LINUX%", linux);

    [Fact]
    public void Without_capabilities_the_OCI_default_set_is_used_and_the_default_filter_is_compiled()
    {
        var plan = PlanOf(Spec());
        Assert.Equal((1UL << 5) | (1UL << 10) | (1UL << 29), plan.Process.Capabilities.Bounding);
        Assert.True(plan.Process.Seccomp.Length > 8 * 300, "the default allow-list covers the syscall table");
        Assert.Equal(MountFlags.Slave | MountFlags.Recursive, plan.RootPropagation);
    }

    [Fact]
    public void Ambient_capabilities_are_made_inheritable_as_runc_spec_means_them()
    {
        var plan = PlanOf(Spec(""", "capabilities": { "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"] }"""));
        Assert.Equal(1UL << 5, plan.Process.Capabilities.Inheritable);
        Assert.Equal(1UL << 5, plan.Process.Capabilities.Ambient);
    }

    [Theory]
    [InlineData(""", "sysctl": { "kernel.panic": "1" }""", "linux.sysctl.kernel.panic: not a namespaced sysctl")]
    [InlineData(""", "sysctl": { "net.ipv4.ip_forward": "1" }""", "linux.sysctl.net.ipv4.ip_forward: needs a network namespace")]
    [InlineData(""", "rootfsPropagation": "rshared" """, "linux.rootfsPropagation: \"rshared\" would let jail mounts reach the host")]
    [InlineData(""", "devices": [ { "path": "/etc/../sda", "type": "b", "major": 8, "minor": 0 } ]""", "linux.devices[0].path: \"/etc/../sda\" must be an absolute path without ..")]
    [InlineData(""", "resources": { "memory": { "swap": 1000 } }""", "linux.resources.memory.swap: counts memory plus swap, so it needs memory.limit too")]
    [InlineData(""", "resources": { "memory": { "limit": 2000, "swap": 1000 } }""", "linux.resources.memory.swap: 1000 is less than memory.limit 2000")]
    [InlineData(""", "resources": { "cpu": { "shares": 1 } }""", "linux.resources.cpu.shares: 1 is outside 2…262144")]
    [InlineData(""", "resources": { "cpu": { "quota": 10 } }""", "linux.resources.cpu.quota: 10 µs must be at least 1000")]
    [InlineData(""", "resources": { "devices": [ { "allow": true, "access": "rwm" } ] }""", "linux.resources.devices[0]: allow rules need a device cgroup")]
    [InlineData(""", "cgroupsPath": "system.slice:initos:j1" """, "linux.cgroupsPath: \"system.slice:initos:j1\" must be a cgroup path")]
    public void A_spec_InitOS_cannot_honour_is_refused_naming_the_field(string linux, string expected)
    {
        var e = Assert.Throws<SpecException>(() => PlanOf(Spec(linux: linux)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resources_become_cgroup_v2_files_with_runcs_conversions()
    {
        const string Resources = """
            , "resources": {
              "memory": { "limit": 33554432, "reservation": 16777216, "swap": 67108864 },
              "pids": { "limit": 20 },
              "cpu": { "shares": 1024, "quota": 20000, "period": 100000 },
              "devices": [ { "allow": false, "access": "rwm" } ] }
            """;
        var plan = PlanOf(Spec(linux: Resources));
        Assert.Equal(
            ["memory.max=33554432", "memory.low=16777216", "memory.swap.max=33554432", "pids.max=20", "cpu.weight=39", "cpu.max=20000 100000"],
            plan.Limits.Select(l => $"{l.File}={l.Value}"));
        Assert.Equal("initos/t", plan.CgroupPath);
    }

    [Theory]
    [InlineData("/jails/web", "jails/web")]
    [InlineData("web", "initos/web")]
    public void CgroupsPath_is_from_the_cgroup_root_when_absolute_and_under_initos_otherwise(string path, string expected) =>
        Assert.Equal(expected, PlanOf(Spec(linux: $", \"cgroupsPath\": \"{path}\"")).CgroupPath);

    [Fact]
    public void The_default_filter_denies_module_loading_and_allows_ordinary_calls()
    {
        var policy = SeccompPolicy.InitOsDefault();
        Assert.True(SyscallTable.TryGetNumber("finit_module", out var finit));
        Assert.True(SyscallTable.TryGetNumber("openat", out var openat));
        Assert.Equal(SeccompAction.Errno(1), policy.Rules[finit]);
        Assert.Equal(SeccompAction.Allow, policy.Rules[openat]);
        Assert.True(policy.DenyDeviceNodes);
    }

    /// <summary>
    /// A profile lists every ABI's syscalls (Docker's, podman's): a name x86_64 lacks is skipped,
    /// as libseccomp skips it; with an allowing default (where a rule can only deny) it is named.
    /// </summary>
    [Fact]
    public void Syscalls_of_other_abis_are_skipped_and_named_when_the_default_allows()
    {
        var denying = PlanOf(Spec(linux: """, "seccomp": { "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "syscalls": [ { "names": ["read", "_llseek"], "action": "SCMP_ACT_ALLOW" } ] }"""));
        Assert.Empty(denying.Warnings);
        var allowing = PlanOf(Spec(linux: """, "seccomp": { "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["no_such_call", "mount"], "action": "SCMP_ACT_ERRNO" } ] }"""));
        Assert.Equal(["linux.seccomp.syscalls: not x86_64 syscalls, so not filtered: no_such_call"], allowing.Warnings);
    }
}

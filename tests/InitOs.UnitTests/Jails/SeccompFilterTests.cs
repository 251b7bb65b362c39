using InitOs.Jails.Oci;
using InitOs.Jails.Planning;
using InitOs.Jails.Seccomp;
using InitOs.Os;

namespace InitOs.UnitTests.Jails;

/// <summary>What the compiled filters answer, call by call (the kernel's own answers: EscapeTests).</summary>
public sealed class SeccompFilterTests
{
    private const ulong CloneNewUser = 0x10000000;
    private const ulong CloneNewNet = 0x40000000;
    private const ulong SigChld = 17;
    private static readonly uint Allow = SeccompAction.Allow.Value;
    private static readonly uint Eperm = SeccompAction.Errno(1).Value;
    private static readonly uint Enosys = SeccompAction.Errno(38).Value;

    private static int Nr(string name) => SyscallTable.NumberOf(name);

    private static byte[] DefaultFilter() => BpfProgram.Compile(SeccompPolicy.InitOsDefault());

    private static byte[] OsFilter(bool unprivileged)
    {
        var spec = OsJailSpec.Create(new OsJailOptions { Image = "/", Init = "/sbin/init", Hostname = "box", Unprivileged = unprivileged });
        return JailPlanner.Plan(new Bundle("/run/initos/os", spec), OsJailSpec.Id, "/run/initos/jails/os").Process.Seccomp;
    }

    public static TheoryData<string> EscapeFilters => new() { "default", "unprivileged os" };

    private static byte[] Filter(string which) => which == "default" ? DefaultFilter() : OsFilter(unprivileged: true);

    [Theory]
    [MemberData(nameof(EscapeFilters))]
    public void A_new_user_namespace_is_refused_but_other_clones_and_unshares_work(string which)
    {
        var filter = Filter(which);
        Assert.Equal(Eperm, BpfInterpreter.Run(filter, Nr("unshare"), CloneNewUser));
        Assert.Equal(Eperm, BpfInterpreter.Run(filter, Nr("unshare"), CloneNewUser | CloneNewNet));
        Assert.Equal(Eperm, BpfInterpreter.Run(filter, Nr("clone"), CloneNewUser | SigChld));
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("unshare"), CloneNewNet));
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("clone"), SigChld));
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("clone"), 0x3d0f00)); // a thread, as glibc makes one
        // The flag in the high half of the register is not CLONE_NEWUSER.
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("clone"), (CloneNewUser << 32) | SigChld));
    }

    [Theory]
    [MemberData(nameof(EscapeFilters))]
    public void The_escape_routes_are_refused_and_the_new_interfaces_look_absent(string which)
    {
        var filter = Filter(which);
        foreach (var name in new[] { "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at" })
        {
            Assert.True(Eperm == BpfInterpreter.Run(filter, Nr(name)), name);
        }
        foreach (var name in new[] { "clone3", "io_uring_setup", "io_uring_enter", "io_uring_register", "fsopen", "fsmount", "move_mount", "open_tree", "mount_setattr" })
        {
            Assert.True(Enosys == BpfInterpreter.Run(filter, Nr(name)), name);
        }
        foreach (var name in new[] { "openat", "read", "mount", "setns", "execve" })
        {
            Assert.True(Allow == BpfInterpreter.Run(filter, Nr(name)), name);
        }
    }

    [Fact]
    public void A_privileged_os_is_refused_only_what_changes_the_kernel()
    {
        var filter = OsFilter(unprivileged: false);
        Assert.Equal(Eperm, BpfInterpreter.Run(filter, Nr("finit_module")));
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("unshare"), CloneNewUser));
        Assert.Equal(Allow, BpfInterpreter.Run(filter, Nr("bpf")));
    }

    [Fact]
    public void Another_architecture_is_killed_and_x32_numbers_get_the_default()
    {
        var filter = DefaultFilter();
        Assert.Equal(SeccompAction.KillProcess.Value, BpfInterpreter.Run(filter, 0x40000003u, Nr("read")));
        Assert.Equal(Eperm, BpfInterpreter.Run(filter, Nr("read") | 0x40000000));
    }

    [Theory]
    [InlineData("SCMP_CMP_EQ", 5UL, 0UL, 5UL, true)]
    [InlineData("SCMP_CMP_EQ", 5UL, 0UL, 5UL | (1UL << 32), false)]
    [InlineData("SCMP_CMP_NE", 5UL, 0UL, 6UL, true)]
    [InlineData("SCMP_CMP_NE", 5UL, 0UL, 5UL | (1UL << 32), true)]
    [InlineData("SCMP_CMP_NE", 5UL, 0UL, 5UL, false)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xF0UL, 0x30UL, 0x3FUL, true)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xF0UL, 0x30UL, 0x4FUL, false)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xF00000000UL, 0x100000000UL, 0x1_0000_0007UL, true)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xF00000000UL, 0x100000000UL, 0x2_0000_0007UL, false)]
    // Orders are unsigned 64-bit: the high words decide unless they are equal.
    [InlineData("SCMP_CMP_GT", 5UL, 0UL, 6UL, true)]
    [InlineData("SCMP_CMP_GT", 5UL, 0UL, 5UL, false)]
    [InlineData("SCMP_CMP_GT", 5UL, 0UL, 1UL << 32, true)]
    [InlineData("SCMP_CMP_GT", (1UL << 32) | 5, 0UL, 6UL, false)]
    [InlineData("SCMP_CMP_GE", 5UL, 0UL, 5UL, true)]
    [InlineData("SCMP_CMP_GE", 5UL, 0UL, 4UL, false)]
    [InlineData("SCMP_CMP_LT", 5UL, 0UL, 4UL, true)]
    [InlineData("SCMP_CMP_LT", 5UL, 0UL, 5UL, false)]
    [InlineData("SCMP_CMP_LT", 5UL, 0UL, (1UL << 32) | 1, false)]
    [InlineData("SCMP_CMP_LT", (1UL << 32) | 5, 0UL, 0xFFFF_FFFFUL, true)]
    [InlineData("SCMP_CMP_LE", 5UL, 0UL, 5UL, true)]
    [InlineData("SCMP_CMP_LE", 5UL, 0UL, 6UL, false)]
    [InlineData("SCMP_CMP_LE", ulong.MaxValue, 0UL, ulong.MaxValue, true)]
    public void An_oci_rule_on_an_argument_matches_all_64_bits(string op, ulong value, ulong valueTwo, ulong argument, bool matches)
    {
        var json = $$"""
            { "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
              { "names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 1, "value": {{value}}, "valueTwo": {{valueTwo}}, "op": "{{op}}" } ] } ] }
            """;
        var filter = PlanTests.PlanOf(PlanTests.Spec(linux: $", \"seccomp\": {json}")).Process.Seccomp;
        Assert.Equal(matches ? Eperm : Allow, BpfInterpreter.Run(filter, Nr("personality"), 0, argument));
    }

    [Theory]
    [InlineData("""{ "index": 6, "value": 1, "op": "SCMP_CMP_EQ" }""", "linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index (0 to 5)")]
    [InlineData("""{ "index": 0, "value": 1, "op": "SCMP_CMP_BETWEEN" }""", "linux.seccomp.syscalls[0].args[0].op: \"SCMP_CMP_BETWEEN\" is not a comparison InitOS compiles")]
    [InlineData("""{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ", "extra": 1 }""", "linux.seccomp.syscalls[0].args[0].extra")]
    public void An_argument_rule_InitOS_cannot_compile_is_refused_by_name(string arg, string expected)
    {
        var json = $$"""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [ {{arg}} ] } ] }""";
        var e = Assert.Throws<SpecException>(() => PlanTests.PlanOf(PlanTests.Spec(linux: $", \"seccomp\": {json}")));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

using InitOs.Jails.Oci;
using InitOs.Jails.Seccomp;

namespace InitOs.Jails.Planning;

/// <summary>process and linux.seccomp → what the jail's program runs as.</summary>
public static class ProcessPlanner
{
    private static readonly string[] RlimitNames =
    [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ];

    /// <param name="warning">What is left out rather than refused (a capability this kernel lacks, as runc does).</param>
    public static ProcessPlan? Plan(OciProcess? process, OciSeccomp? seccomp, Action<string, string> problem, Action<string, string> warning)
    {
        if (process is null)
        {
            problem("process", "missing");
            return null;
        }
        if (process.Args is not { Count: > 0 } args)
        {
            problem("process.args", "missing or empty");
            return null;
        }
        var cwd = process.Cwd ?? "/";
        if (!cwd.StartsWith('/'))
        {
            problem("process.cwd", $"\"{cwd}\" is not an absolute path");
        }
        foreach (var (entry, i) in (process.Env ?? []).Select((e, i) => (e, i)))
        {
            if (!entry.Contains('=', StringComparison.Ordinal))
            {
                problem($"process.env[{i}]", $"\"{entry}\" is not NAME=VALUE");
            }
        }
        return new ProcessPlan
        {
            Args = args,
            Env = process.Env ?? [],
            Cwd = cwd,
            Uid = process.User?.Uid ?? 0,
            Gid = process.User?.Gid ?? 0,
            AdditionalGids = process.User?.AdditionalGids ?? [],
            Umask = process.User?.Umask,
            Capabilities = CapabilitySets(process.Capabilities, warning),
            Rlimits = Rlimits(process.Rlimits, problem),
            NoNewPrivileges = process.NoNewPrivileges,
            Terminal = process.Terminal,
            Seccomp = BpfProgram.Compile(SeccompPolicy(seccomp, problem, warning)),
        };
    }

    /// <summary>
    /// A capability name this kernel does not know is left out with a warning, as runc and crun do:
    /// the program gets less than asked, never more, and a spec written for a newer kernel still runs.
    /// </summary>
    public static CapabilitySets CapabilitySets(OciCapabilities? caps, Action<string, string> warning)
    {
        if (caps is null)
        {
            var defaults = Mask(Capabilities.Default, "process.capabilities", warning);
            return new CapabilitySets(defaults, defaults, defaults, 0, 0);
        }
        var permitted = Mask(caps.Permitted, "process.capabilities.permitted", warning);
        // The kernel raises an ambient capability only if it is permitted too: the others are left out.
        var ambient = Mask(caps.Ambient, "process.capabilities.ambient", warning);
        if ((ambient & ~permitted) != 0)
        {
            warning("process.capabilities.ambient", "holds capabilities that are not in permitted; they are left out (the kernel refuses to raise them)");
            ambient &= permitted;
        }
        // The kernel raises an ambient capability only if it is also inheritable; `runc spec`
        // writes ambient without inheritable, meaning "keep these across exec": so ambient
        // implies inheritable here rather than failing or being dropped.
        return new CapabilitySets(
            Mask(caps.Bounding, "process.capabilities.bounding", warning),
            Mask(caps.Effective, "process.capabilities.effective", warning),
            permitted,
            Mask(caps.Inheritable, "process.capabilities.inheritable", warning) | ambient,
            ambient);
    }

    public static ulong Mask(IReadOnlyList<string>? names, string field, Action<string, string> warning)
    {
        ulong mask = 0;
        foreach (var name in names ?? [])
        {
            if (Capabilities.TryParse(name, out var bit))
            {
                mask |= 1UL << bit;
            }
            else
            {
                warning(field, $"\"{name}\" is not a capability this kernel knows; left out");
            }
        }
        return mask;
    }

    private static List<RlimitSetting> Rlimits(IReadOnlyList<OciRlimit>? rlimits, Action<string, string> problem)
    {
        var result = new List<RlimitSetting>();
        foreach (var (limit, i) in (rlimits ?? []).Select((l, i) => (l, i)))
        {
            int resource = Array.IndexOf(RlimitNames, limit.Type);
            if (resource < 0)
            {
                problem($"process.rlimits[{i}].type", $"\"{limit.Type}\" is not an RLIMIT_* name");
            }
            else if (limit.Soft > limit.Hard)
            {
                problem($"process.rlimits[{i}]", $"soft {limit.Soft} is above hard {limit.Hard}");
            }
            else
            {
                result.Add(new RlimitSetting(resource, limit.Soft, limit.Hard));
            }
        }
        return result;
    }

    private static SeccompPolicy SeccompPolicy(OciSeccomp? seccomp, Action<string, string> problem, Action<string, string> warning)
    {
        if (seccomp is null)
        {
            return Seccomp.SeccompPolicy.InitOsDefault();
        }
        const uint EPERM = 1;
        var defaultAction = SeccompAction.FromOci(seccomp.DefaultAction, seccomp.DefaultErrnoRet, EPERM);
        if (defaultAction is null)
        {
            problem("linux.seccomp.defaultAction", $"\"{seccomp.DefaultAction}\" is not an action InitOS knows");
        }
        // Docker's and podman's profiles list x86, x32 (and others) beside x86_64: accepted, but
        // InitOS's filter lets only the x86_64 ABI through (a 32-bit call is killed, never unfiltered).
        foreach (var arch in seccomp.Architectures ?? [])
        {
            if (!arch.StartsWith("SCMP_ARCH_", StringComparison.Ordinal))
            {
                problem("linux.seccomp.architectures", $"\"{arch}\" is not an SCMP_ARCH_* name");
            }
        }
        var rules = new Dictionary<int, SeccompAction>();
        var argumentRules = new List<ArgumentRule>();
        var unknown = new List<string>();
        foreach (var (rule, i) in (seccomp.Syscalls ?? []).Select((r, i) => (r, i)))
        {
            var field = $"linux.seccomp.syscalls[{i}]";
            var action = SeccompAction.FromOci(rule.Action, rule.ErrnoRet, EPERM);
            if (action is null)
            {
                problem($"{field}.action", $"\"{rule.Action}\" is not an action InitOS knows");
                continue;
            }
            var conditions = SeccompArguments.Conditions(rule.Args, $"{field}.args", problem);
            foreach (var name in rule.Names ?? [])
            {
                if (!SyscallTable.TryGetNumber(name, out var number))
                {
                    // A syscall of another ABI (a profile lists every architecture's): nothing to filter
                    // on x86_64, as libseccomp skips it for runc.
                    unknown.Add(name);
                    continue;
                }
                else if (conditions.Count > 0)
                {
                    argumentRules.Add(new ArgumentRule(number, conditions, action.Value));
                }
                else
                {
                    rules[number] = action.Value;
                }
            }
        }
        if (unknown.Count > 0 && defaultAction is { } allowing && allowing.Equals(SeccompAction.Allow))
        {
            // With an allowing default a rule can only deny: one that names no x86_64 call denies nothing.
            warning("linux.seccomp.syscalls", $"not x86_64 syscalls, so not filtered: {string.Join(", ", unknown.Distinct())}");
        }
        return new SeccompPolicy(defaultAction ?? SeccompAction.KillProcess, rules, DenyDeviceNodes: false) { ArgumentRules = argumentRules };
    }
}

using System.Globalization;
using InitOs.Jails.Oci;

namespace InitOs.Jails.Planning;

/// <summary>
/// linux.resources → the cgroup v2 files to write, in runc's conversions: memory.limit →
/// memory.max, reservation → memory.low, swap (memory+swap) → memory.swap.max (swap − limit),
/// pids.limit → pids.max, cpu.shares → cpu.weight, cpu quota/period → cpu.max.
/// </summary>
public static class ResourcePlanner
{
    public const string Field = "linux.resources";
    private const ulong DefaultCpuPeriod = 100_000;

    public static IReadOnlyList<CgroupSetting> Plan(OciResources? resources, Action<string, string> problem)
    {
        var settings = new List<CgroupSetting>();
        if (resources is null)
        {
            return settings;
        }
        Memory(resources.Memory, settings, problem);
        Pids(resources.Pids, settings);
        Cpu(resources.Cpu, settings, problem);
        Devices(resources.Devices, problem);
        return settings;
    }

    private static void Memory(OciMemory? memory, List<CgroupSetting> settings, Action<string, string> problem)
    {
        if (memory is null)
        {
            return;
        }
        var limit = Bytes($"{Field}.memory.limit", memory.Limit, problem);
        if (limit is not null)
        {
            settings.Add(new("memory.max", limit));
        }
        if (Bytes($"{Field}.memory.reservation", memory.Reservation, problem) is { } low)
        {
            settings.Add(new("memory.low", low));
        }
        if (memory.Swap is not { } swap)
        {
            return;
        }
        if (swap == -1)
        {
            settings.Add(new("memory.swap.max", "max"));
        }
        else if (memory.Limit is not ({ } memoryLimit and > 0))
        {
            problem($"{Field}.memory.swap", "counts memory plus swap, so it needs memory.limit too");
        }
        else if (swap < memoryLimit)
        {
            problem($"{Field}.memory.swap", $"{swap} is less than memory.limit {memoryLimit} (swap counts memory plus swap)");
        }
        else
        {
            settings.Add(new("memory.swap.max", Number(swap - memoryLimit)));
        }
    }

    /// <summary>A byte count: positive, or -1 for no limit.</summary>
    private static string? Bytes(string field, long? value, Action<string, string> problem)
    {
        switch (value)
        {
            case null:
                return null;
            case -1:
                return "max";
            case > 0:
                return Number(value.Value);
            default:
                problem(field, $"{value} must be a positive number of bytes, or -1 for no limit");
                return null;
        }
    }

    /// <summary>As runc reads it: a positive limit is the limit, a negative one "max", 0 sets nothing.</summary>
    private static void Pids(OciPids? pids, List<CgroupSetting> settings)
    {
        switch (pids?.Limit)
        {
            case null or 0:
                return;
            case < 0:
                settings.Add(new("pids.max", "max"));
                return;
            case var limit:
                settings.Add(new("pids.max", Number(limit.Value)));
                return;
        }
    }

    private static void Cpu(OciCpu? cpu, List<CgroupSetting> settings, Action<string, string> problem)
    {
        if (cpu is null)
        {
            return;
        }
        if (cpu.Shares is { } shares)
        {
            if (shares is < 2 or > 262_144)
            {
                problem($"{Field}.cpu.shares", $"{shares} is outside 2…262144");
            }
            else
            {
                settings.Add(new("cpu.weight", Number((long)(1 + ((shares - 2) * 9999 / 262_142)))));
            }
        }
        if (cpu.Quota is null && cpu.Period is null)
        {
            return;
        }
        var period = cpu.Period ?? DefaultCpuPeriod;
        if (period is < 1000 or > 1_000_000)
        {
            problem($"{Field}.cpu.period", $"{period} µs is outside 1000…1000000");
            return;
        }
        switch (cpu.Quota)
        {
            case null or -1:
                settings.Add(new("cpu.max", $"max {Number((long)period)}"));
                break;
            case >= 1000 and var quota:
                settings.Add(new("cpu.max", $"{Number(quota)} {Number((long)period)}"));
                break;
            case var quota:
                problem($"{Field}.cpu.quota", $"{quota} µs must be at least 1000, or -1 for no limit");
                break;
        }
    }

    /// <summary>
    /// InitOS attaches no device-cgroup program: a jail reaches only the nodes that linux.devices
    /// creates and mounts bind in, and seccomp refuses mknod of devices. A rule that denies is what
    /// already holds; one that allows would promise access control InitOS does not do.
    /// </summary>
    private static void Devices(IReadOnlyList<OciDeviceRule>? rules, Action<string, string> problem)
    {
        foreach (var (rule, i) in (rules ?? []).Select((r, i) => (r, i)))
        {
            if (rule.Allow)
            {
                problem($"{Field}.devices[{i}]", "allow rules need a device cgroup, which InitOS does not attach; give the jail its nodes with linux.devices");
            }
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One cgroup v2 interface file of the jail's cgroup and the value written to it.</summary>
public sealed record CgroupSetting(string File, string Value)
{
    /// <summary>The controller the file belongs to ("memory" for memory.max).</summary>
    public string Controller => File[..File.IndexOf('.', StringComparison.Ordinal)];
}

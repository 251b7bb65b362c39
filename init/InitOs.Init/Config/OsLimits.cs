namespace InitOs.Init.Config;

/// <summary>
/// What bounds the jailed OS, from [os] or from the machine's memory: its cgroup's memory.max
/// and pids.max, and the sizes of its /tmp and /run. The defaults leave the host a reserve
/// (PID 1, the sidecar and its sessions, the kernel) that the OS cannot take, however it runs away.
/// </summary>
public sealed record OsLimits(long MemoryMaxBytes, int PidsMax, int TmpSizeMiB, int RunSizeMiB)
{
    public const int DefaultPidsMax = 4096;
    /// <summary>The host keeps at least this much, or an eighth of the memory when that is more.</summary>
    public const long MinimumHostReserveBytes = 256L << 20;

    public static OsLimits For(OsConfig config, long memoryTotalBytes)
    {
        long reserve = Math.Max(MinimumHostReserveBytes, memoryTotalBytes / 8);
        long memoryMax = config.MemoryMaxMiB is { } mib ? mib * (1L << 20) : Math.Max(32L << 20, memoryTotalBytes - reserve);
        int totalMiB = (int)Math.Min(int.MaxValue, memoryTotalBytes >> 20);
        return new OsLimits(
            memoryMax,
            config.PidsMax,
            config.TmpSizeMiB ?? Math.Max(16, totalMiB / 4),
            config.RunSizeMiB ?? Math.Max(16, totalMiB / 10));
    }

    /// <summary>MemTotal from /proc/meminfo, in bytes.</summary>
    public static long MemoryTotalBytes(string meminfo = "/proc/meminfo")
    {
        foreach (var line in File.ReadLines(meminfo))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                var kib = line["MemTotal:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidDataException($"{meminfo} has no MemTotal line");
    }

    public string Describe() =>
        $"memory.max {MemoryMaxBytes >> 20} MiB, pids.max {PidsMax}, /tmp {TmpSizeMiB} MiB, /run {RunSizeMiB} MiB";
}

using System.Globalization;

namespace InitOs.Sidecar.Admin;

/// <summary>The machine as `initos admin status` shows it: the real init's mounts and the block devices.</summary>
internal static class MachineFacts
{
    public sealed record Mount(string Source, string Target, string Type);

    public sealed record Disk(string Name, long Bytes);

    /// <summary>A jail as the host sees it; UidMap is its /proc/PID/uid_map ("inside outside count" lines).</summary>
    public sealed record Jail(string Id, string Status, int Pid, IReadOnlyList<string> UidMap);

    /// <summary>The jails under /run/initos/jails, the jailed OS among them, with their uid maps read from the host side.</summary>
    public static IReadOnlyList<Jail> Jails()
    {
        var jails = new List<Jail>();
        foreach (var id in InitOs.Jails.Running.JailState.AllIds())
        {
            if (InitOs.Jails.Running.JailState.Load(id)?.Refreshed() is not { } state)
            {
                continue;
            }
            var map = $"/proc/{state.Pid}/uid_map";
            IReadOnlyList<string> uidMap = state.Status == InitOs.Jails.Running.JailStatus.Running && File.Exists(map)
                ? File.ReadLines(map).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList()
                : [];
            jails.Add(new Jail(state.Id, InitOs.Jails.Running.JailLifecycle.Name(state.Status), state.Pid, uidMap));
        }
        return jails;
    }

    /// <summary>PID 1's mounts (/proc/1/mounts): the machine's, also when asked from the sidecar's chroot.</summary>
    public static IReadOnlyList<Mount> Mounts()
    {
        try
        {
            return File.ReadLines("/proc/1/mounts").Select(l => l.Split(' ')).Where(f => f.Length >= 3)
                .Select(f => new Mount(Unescape(f[0]), Unescape(f[1]), f[2])).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>
    /// Whether a mounted block device is encrypted: "encrypted (LUKS2 NAME)" when it is one of the
    /// dm-crypt mappings this boot opened (by /dev/mapper/NAME or its /dev/dm-N), else "not encrypted".
    /// </summary>
    public static string Encryption(string source, IReadOnlyList<(string Name, string Device, string How)> opened)
    {
        var name = source.StartsWith("/dev/mapper/", StringComparison.Ordinal) ? source["/dev/mapper/".Length..]
            : source.StartsWith("/dev/dm-", StringComparison.Ordinal) ? ReadTrimmed($"/sys/block/{Path.GetFileName(source)}/dm/name")
            : null;
        return name is not null && opened.Any(v => v.Name == name) ? $"encrypted (LUKS2 {name})" : "not encrypted";
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Block devices from /sys/block, without the empty loop and ram devices.</summary>
    public static IReadOnlyList<Disk> Disks()
    {
        if (!Directory.Exists("/sys/block"))
        {
            return [];
        }
        return Directory.GetDirectories("/sys/block").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
            .Select(name => new Disk(name, Sectors(name) * 512)).Where(d => d.Bytes > 0).ToList();
    }

    private static long Sectors(string name) =>
        long.TryParse(File.ReadAllText($"/sys/block/{name}/size").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long sectors) ? sectors : 0;

    /// <summary>
    /// Where the admin door stands, as this session (its child) inherited it: its cgroup and
    /// oom_score_adj (DoorProtection), e.g. "cgroup /initos/sidecar, oom_score_adj -900".
    /// </summary>
    public static string Door()
    {
        var cgroup = File.ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..] ?? "(cgroup v1)";
        var oom = File.ReadAllText("/proc/self/oom_score_adj").Trim();
        return $"cgroup {cgroup}, oom_score_adj {oom}";
    }

    /// <summary>/proc/mounts writes space, tab, newline and backslash as octal escapes.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}

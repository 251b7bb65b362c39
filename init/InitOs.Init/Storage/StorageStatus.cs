namespace InitOs.Init.Storage;

/// <summary>An assembled md array as `status` shows it.</summary>
public sealed record RaidArray(string Name, string Device, string Level, int Active, int Total, IReadOnlyList<string> Members)
{
    public bool Degraded => Active < Total;

    public string Health => Degraded ? $"DEGRADED, {Total - Active} of {Total} members missing" : "healthy";

    public override string ToString() => $"{Name} ({Device}): {Level}, {Active} of {Total} members ({string.Join(", ", Members)}), {Health}";
}

/// <summary>
/// The md arrays and volume groups this boot brought up, for `status`: /run/initos/storage/arrays
/// (NAME, DEVICE, LEVEL, ACTIVE, TOTAL, MEMBERS tab-separated) and /run/initos/storage/groups.
/// Array health is read again from sysfs when shown (a member may have failed since).
/// </summary>
public static class StorageStatus
{
    public const string ArraysPath = "/run/initos/storage/arrays";
    public const string GroupsPath = "/run/initos/storage/groups";

    public static void Record(RaidArray array, string path = ArraysPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.AppendAllText(path, $"{array.Name}\t{array.Device}\t{array.Level}\t{array.Active}\t{array.Total}\t{string.Join(',', array.Members)}\n");
    }

    public static IReadOnlyList<RaidArray> Read(string path = ArraysPath, string sysBlock = "/sys/block") =>
        !File.Exists(path) ? [] : File.ReadAllLines(path).Select(l => l.Split('\t')).Where(w => w.Length == 6).Select(w =>
        {
            var recorded = new RaidArray(w[0], w[1], w[2], int.Parse(w[3], System.Globalization.CultureInfo.InvariantCulture), int.Parse(w[4], System.Globalization.CultureInfo.InvariantCulture), w[5].Split(',', StringSplitOptions.RemoveEmptyEntries));
            return Now(recorded, sysBlock) ?? recorded;
        }).ToList();

    /// <summary>The array as sysfs has it now: raid_disks less degraded.</summary>
    public static RaidArray? Now(RaidArray array, string sysBlock = "/sys/block")
    {
        var md = Path.Combine(sysBlock, Path.GetFileName(array.Device), "md");
        if (!int.TryParse(ReadSys(Path.Combine(md, "raid_disks")), out int total) || !int.TryParse(ReadSys(Path.Combine(md, "degraded")), out int degraded))
        {
            return null;
        }
        return array with { Total = total, Active = total - degraded, Level = ReadSys(Path.Combine(md, "level")) ?? array.Level };
    }

    public static void RecordGroup(string group, IReadOnlyList<string> volumes, string path = GroupsPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.AppendAllText(path, $"{group}\t{string.Join(',', volumes)}\n");
    }

    public static IReadOnlyList<(string Group, IReadOnlyList<string> Volumes)> ReadGroups(string path = GroupsPath) =>
        !File.Exists(path) ? [] : File.ReadAllLines(path).Select(l => l.Split('\t')).Where(w => w.Length == 2)
            .Select(w => (w[0], (IReadOnlyList<string>)w[1].Split(',', StringSplitOptions.RemoveEmptyEntries))).ToList();

    private static string? ReadSys(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

namespace InitOs.Init.Devices;

/// <summary>A block device as sysfs and its superblock/partition table describe it.</summary>
public sealed record BlockDevice(
    string Name,
    string DevicePath,
    long SizeBytes,
    string? ParentDisk,
    FilesystemInfo? Filesystem,
    PartitionEntry? Partition)
{
    /// <summary>A device-mapper device's name (/sys/class/block/dm-N/dm/name): /dev/mapper/NAME names it too.</summary>
    public string? MapperName { get; init; }

    /// <summary>One line for "devices seen" messages: name, size, type and identifiers.</summary>
    public string Describe()
    {
        var parts = new List<string> { $"{Name} ({SizeBytes / (1024 * 1024)} MiB" };
        if (Filesystem is { } fs)
        {
            parts.Add(fs.Type);
            if (fs.Label is not null) parts.Add($"LABEL={fs.Label}");
            if (fs.Uuid is not null) parts.Add($"UUID={fs.Uuid}");
        }
        if (Partition is { } p)
        {
            parts.Add($"PARTUUID={p.PartUuid}");
            if (p.PartLabel is not null) parts.Add($"PARTLABEL={p.PartLabel}");
        }
        return string.Join(' ', parts) + ")";
    }
}

using System.Globalization;

namespace InitOs.Init.Devices;

/// <summary>
/// Lists block devices from /sys/class/block and probes each one's superblock, and each
/// partition's entry in its disk's partition table, with the C# probes (no blkid).
/// </summary>
public sealed class BlockDeviceScanner
{
    private readonly string _sysClassBlock;
    private readonly string _devDirectory;

    public BlockDeviceScanner(string sysClassBlock = "/sys/class/block", string devDirectory = "/dev")
    {
        _sysClassBlock = sysClassBlock;
        _devDirectory = devDirectory;
    }

    public IReadOnlyList<BlockDevice> Scan()
    {
        if (!Directory.Exists(_sysClassBlock))
        {
            return [];
        }
        var tables = new Dictionary<string, IReadOnlyList<PartitionEntry>>();
        var devices = new List<BlockDevice>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(_sysClassBlock).Order(StringComparer.Ordinal))
        {
            var device = Describe(entry, tables);
            if (device is not null)
            {
                devices.Add(device);
            }
        }
        return devices;
    }

    private BlockDevice? Describe(string sysPath, Dictionary<string, IReadOnlyList<PartitionEntry>> tables)
    {
        var name = Path.GetFileName(sysPath);
        long sectors = ReadLong(Path.Combine(sysPath, "size"));
        if (sectors <= 0)
        {
            return null; // empty loop, ram or cdrom slots
        }
        var devPath = Path.Combine(_devDirectory, name);
        var partitionNumber = (int)ReadLong(Path.Combine(sysPath, "partition"));
        string? parent = partitionNumber > 0 ? ParentDiskName(sysPath) : null;
        PartitionEntry? partition = null;
        if (parent is not null)
        {
            if (!tables.TryGetValue(parent, out var table))
            {
                table = ReadTable(parent);
                tables[parent] = table;
            }
            partition = table.FirstOrDefault(p => p.Number == partitionNumber);
        }
        return new BlockDevice(name, devPath, sectors * 512, parent, ProbeFilesystem(devPath), partition)
        {
            MapperName = ReadText(Path.Combine(sysPath, "dm", "name")),
        };
    }

    /// <summary>/sys/class/block/vda1 links to …/block/vda/vda1: the parent directory is the disk.</summary>
    private static string? ParentDiskName(string sysPath)
    {
        var target = new DirectoryInfo(sysPath).ResolveLinkTarget(true)?.FullName ?? sysPath;
        return Path.GetFileName(Path.GetDirectoryName(target));
    }

    private IReadOnlyList<PartitionEntry> ReadTable(string disk)
    {
        int sectorSize = (int)ReadLong(Path.Combine(_sysClassBlock, disk, "queue/logical_block_size"));
        try
        {
            using var stream = new FileStream(Path.Combine(_devDirectory, disk), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            return PartitionTable.Read(stream, sectorSize > 0 ? sectorSize : 512);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static FilesystemInfo? ProbeFilesystem(string devPath)
    {
        try
        {
            using var stream = new FileStream(devPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            return FilesystemProbe.Probe(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // no medium, or the node is not there yet
        }
    }

    private static long ReadLong(string file)
    {
        try
        {
            return long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>A one-line sysfs attribute, or null when there is none.</summary>
    private static string? ReadText(string file)
    {
        try
        {
            return File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } text ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

using System.Globalization;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>One qgroup as `btrfs qgroup show --raw` prints it; a null maximum is "none".</summary>
public sealed record QgroupRow(ulong SubvolumeId, long Referenced, long Exclusive, long? MaxReferenced, long? MaxExclusive);

/// <summary>
/// A fresh btrfs filesystem on a sparse image file, attached to a loop device and mounted in a
/// temporary directory. Dispose unmounts, detaches and deletes everything, and a constructor
/// that fails half-way undoes what it did, so a failed test leaves no loop device behind.
/// </summary>
public sealed class BtrfsLoop : IDisposable
{
    private static readonly Lazy<bool> ProgsInstalled = new(InstallBtrfsProgsIfMissing);
    private readonly TempDirectory _scratch;
    private bool _mounted;

    public BtrfsLoop(long sizeBytes = 256L << 20, string? imageDirectory = null)
    {
        _ = ProgsInstalled.Value;
        _scratch = new TempDirectory("initos-btrfs-");
        // Traversable by other users, as a pool's place on a real host is: an unprivileged jail's
        // root (a host uid in its range) mounts its overlay from a slot below here.
        File.SetUnixFileMode(_scratch.Path, (UnixFileMode)0x1ED);
        ImagePath = Path.Combine(imageDirectory ?? _scratch.Path, $"btrfs-{Guid.NewGuid():N}.img");
        MountPoint = _scratch.File("mnt");
        Uuid = Guid.NewGuid().ToString();
        try
        {
            using (var image = File.Create(ImagePath))
            {
                image.SetLength(sizeBytes); // sparse, like truncate -s
            }
            Tool.Run("mkfs.btrfs", "-q", "-f", "-U", Uuid, ImagePath);
            Device = Tool.Run("losetup", "--find", "--show", ImagePath).Trim();
            Directory.CreateDirectory(MountPoint);
            Mounts.Mount(Device, MountPoint, "btrfs", MountFlags.None, null);
            _mounted = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string ImagePath { get; }

    public string? Device { get; private set; }

    public string MountPoint { get; }

    /// <summary>The filesystem UUID, chosen here (mkfs -U) so sysfs paths are known without probing.</summary>
    public string Uuid { get; }

    /// <summary>The kernel's own word on the quota mode ("squota", "qgroup"), from sysfs; "qgroup" on kernels that predate the file.</summary>
    public string SysfsQuotaMode()
    {
        string path = $"/sys/fs/btrfs/{Uuid}/qgroups/mode";
        return File.Exists(path) ? File.ReadAllText(path).Trim() : "qgroup";
    }

    /// <summary>Every level-0 qgroup, read with btrfs-progs (not with InitOS's own ioctls).</summary>
    public IReadOnlyDictionary<ulong, QgroupRow> Qgroups()
    {
        var rows = new Dictionary<ulong, QgroupRow>();
        foreach (string line in Tool.Run("btrfs", "qgroup", "show", "-re", "--raw", MountPoint).Split('\n'))
        {
            string[] cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length >= 5 && cells[0].StartsWith("0/", StringComparison.Ordinal))
            {
                ulong id = ulong.Parse(cells[0][2..], CultureInfo.InvariantCulture);
                rows[id] = new QgroupRow(id, long.Parse(cells[1], CultureInfo.InvariantCulture), long.Parse(cells[2], CultureInfo.InvariantCulture), Limit(cells[3]), Limit(cells[4]));
            }
        }
        return rows;
    }

    /// <summary>Bytes the image file really occupies on the filesystem that holds it (st_blocks × 512).</summary>
    public long ImageAllocatedBytes() => long.Parse(Tool.Run("stat", "-c", "%b", ImagePath).Trim(), CultureInfo.InvariantCulture) * 512;

    public void Dispose()
    {
        var errors = new List<Exception>();
        if (_mounted)
        {
            Try(errors, () => UnmountEvenIfBusy(MountPoint));
            _mounted = false;
        }
        if (Device is not null)
        {
            Try(errors, () => Tool.Run("losetup", "-d", Device));
            Device = null;
        }
        Try(errors, () => File.Delete(ImagePath));
        if (errors.Count == 0)
        {
            _scratch.Dispose(); // never while the filesystem may still be mounted inside it
        }
        else
        {
            throw new AggregateException("btrfs loop fixture cleanup failed", errors);
        }
    }

    /// <summary>A test that failed with an overlay still mounted must not leave the loop device stuck.</summary>
    internal static void UnmountEvenIfBusy(string target)
    {
        try
        {
            Mounts.Unmount(target);
        }
        catch (SysException e) when (e.Errno == Errno.EBUSY)
        {
            Mounts.Unmount(target, UnmountFlags.Detach);
        }
    }

    private static long? Limit(string cell) => cell == "none" ? null : long.Parse(cell, CultureInfo.InvariantCulture);

    private static void Try(List<Exception> errors, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
    }

    private static bool InstallBtrfsProgsIfMissing()
    {
        string[] dirs = [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'), "/usr/sbin", "/sbin"];
        if (!dirs.Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "mkfs.btrfs"))))
        {
            Tool.Run("apt-get", "install", "-y", "--no-install-recommends", "btrfs-progs");
        }
        return true;
    }
}

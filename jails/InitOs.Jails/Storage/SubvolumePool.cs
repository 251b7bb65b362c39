using InitOs.Sys;

namespace InitOs.Jails.Storage;

/// <summary>
/// A fixed set of btrfs subvolumes, <c>slot-0</c> … <c>slot-N-1</c> in one directory, each with a
/// quota, that hold jails' overlay upper and work directories. A slot is leased to one jail at a
/// time and destroyed and re-created after it, so no jail ever starts on another's upper.
/// </summary>
/// <remarks>
/// State lives on disk so that separate processes agree: <c>pool.lock</c> (flock) serialises
/// every change, and <c>slot-N.taken</c> marks a leased slot and holds its lease token. A lease
/// outlives the process that took it, because a jail may outlive the command that started it;
/// only <see cref="Release(int, string)"/> or <see cref="ResetAll"/> ends it. The marker is removed
/// only after the slot has been re-created, so a crash mid-release leaves a slot leased, never
/// free and dirty.
/// </remarks>
public sealed partial class SubvolumePool
{
    /// <summary>Smaller quotas are almost surely a unit mistake (MiB given as bytes), and leave a jail no room to copy up.</summary>
    public const long MinimumQuotaBytes = 16L << 20;

    public SubvolumePool(string directory, int slotCount, long quotaBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        if (quotaBytes < MinimumQuotaBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(quotaBytes), quotaBytes,
                $"a slot quota of {quotaBytes} bytes is below the minimum of {MinimumQuotaBytes} bytes (16 MiB)");
        }
        Directory = Path.GetFullPath(directory);
        RequireBtrfsDirectory(Directory);
        SlotCount = slotCount;
        QuotaBytes = quotaBytes;
    }

    public string Directory { get; }

    public int SlotCount { get; }

    public long QuotaBytes { get; }

    /// <summary>The quota accounting in force, known once <see cref="Ensure"/> or <see cref="ResetAll"/> has run.</summary>
    public BtrfsQuotaKind? QuotaKind { get; private set; }

    /// <summary>
    /// Turns quotas on and creates the slots that are missing, each with its quota. Free slots
    /// get the current quota again (it may have changed); leased slots are left alone.
    /// </summary>
    public void Ensure()
    {
        using var poolLock = LockPool();
        QuotaKind = EnableQuotas();
        for (int index = 0; index < SlotCount; index++)
        {
            EnsureSlot(index);
        }
    }

    /// <summary>
    /// Re-creates every slot, leased or not, and frees them all. Only for when no jail can be
    /// running (at boot): it is how leases left by a crash or a power loss come back.
    /// </summary>
    public void ResetAll()
    {
        using var poolLock = LockPool();
        QuotaKind = EnableQuotas();
        for (int index = 0; index < SlotCount; index++)
        {
            Recreate(index);
            File.Delete(MarkerPath(index));
        }
    }

    /// <summary>Leases a free slot, or throws <see cref="StoragePoolException"/> when all are leased.</summary>
    public PoolSlot Take() =>
        TryTake() ?? throw new StoragePoolException($"storage pool {Directory} has no free slot: all {SlotCount} are leased");

    /// <summary>Leases a free slot, or returns null when all are leased. Two callers never get the same slot, in one process or in several.</summary>
    public PoolSlot? TryTake()
    {
        using var poolLock = LockPool();
        for (int index = 0; index < SlotCount; index++)
        {
            if (!IsLeased(index) && IsReady(index))
            {
                string lease = NewLeaseToken();
                WriteMarker(index, lease);
                return Describe(index, lease);
            }
        }
        return null;
    }

    /// <summary>
    /// A token that tells this lease from any other. Not Guid.NewGuid: early in a boot, before
    /// the kernel's random pool is ready, its getrandom(GRND_NONBLOCK) fails; the kernel's own
    /// uuid file never does (uniqueness is all a lease needs).
    /// </summary>
    private static string NewLeaseToken()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/uuid").Trim().Replace("-", "", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Environment.ProcessId:x}{System.Diagnostics.Stopwatch.GetTimestamp():x}");
        }
    }

    /// <summary>Destroys the slot's subvolume with all the jail wrote, re-creates it with its quota, and frees it. Unmount the overlay first.</summary>
    public void Release(PoolSlot slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        Release(slot.Index, slot.Lease);
    }

    /// <summary>As <see cref="Release(PoolSlot)"/>, for a process that kept only the index and the lease.</summary>
    public void Release(int index, string lease)
    {
        ArgumentException.ThrowIfNullOrEmpty(lease);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SlotCount);
        using var poolLock = LockPool();
        string? holder = ReadLease(index);
        if (holder != lease)
        {
            // Never destroy on a stale lease: the slot may belong to another jail by now.
            throw new StoragePoolException(holder is null
                ? $"{SlotPath(index)} is not leased; nothing to release"
                : $"{SlotPath(index)} is leased under another lease than {lease}; not destroying it");
        }
        Recreate(index);
        File.Delete(MarkerPath(index));
    }

    private static void RequireBtrfsDirectory(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ArgumentException($"storage pool directory {directory} does not exist", nameof(directory));
        }
        long type = FileSystems.Status(directory).Type;
        if (type != Btrfs.SuperMagic)
        {
            throw new ArgumentException(
                $"storage pool directory {directory} is not on btrfs (filesystem magic 0x{type:X}, btrfs is 0x{Btrfs.SuperMagic:X}): slots need btrfs subvolumes and quotas",
                nameof(directory));
        }
    }

    private FileLock LockPool() => FileLock.Exclusive(Path.Combine(Directory, "pool.lock"));
}

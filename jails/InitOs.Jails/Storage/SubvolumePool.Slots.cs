using System.Text;
using InitOs.Sys;

namespace InitOs.Jails.Storage;

// Slot creation, quotas and lease markers. Every method here runs with the pool lock held.
public sealed partial class SubvolumePool
{
    private BtrfsQuotaKind EnableQuotas()
    {
        try
        {
            Btrfs.EnableQuotas(Directory, BtrfsQuotaKind.Simple);
        }
        catch (SysException simpleRefused)
        {
            // Kernels before 6.7 know only classic qgroups (cmd 4 is EINVAL there).
            try
            {
                Btrfs.EnableQuotas(Directory, BtrfsQuotaKind.Qgroups);
            }
            catch (SysException qgroupsRefused)
            {
                throw new StoragePoolException($"cannot enable quotas on {Directory}: {simpleRefused.Message}; {qgroupsRefused.Message}", qgroupsRefused);
            }
        }
        // Ask rather than assume: on a filesystem that already had classic qgroups the squota request succeeds and changes nothing.
        return Btrfs.SimpleQuotasEnabled(Directory) ? BtrfsQuotaKind.Simple : BtrfsQuotaKind.Qgroups;
    }

    private void EnsureSlot(int index)
    {
        string subvolume = SlotPath(index);
        if (!System.IO.Directory.Exists(subvolume))
        {
            // New, or a release that stopped between destroy and create: either way a fresh, free slot.
            CreateSlot(index);
            File.Delete(MarkerPath(index));
            return;
        }
        if (!Btrfs.IsSubvolume(subvolume))
        {
            throw new StoragePoolException($"{subvolume} exists but is not a btrfs subvolume; move it out of the storage pool");
        }
        if (!IsLeased(index))
        {
            LimitToQuota(subvolume);
            Files.MakeDirectory(UpperPath(index));
            Files.MakeDirectory(WorkPath(index));
        }
    }

    private void Recreate(int index)
    {
        if (System.IO.Directory.Exists(SlotPath(index)))
        {
            Btrfs.DeleteSubvolume(Directory, SlotName(index));
        }
        CreateSlot(index);
    }

    private void CreateSlot(int index)
    {
        string subvolume = SlotPath(index);
        Btrfs.CreateSubvolume(Directory, SlotName(index));
        LimitToQuota(subvolume);
        // Made last: a slot with both directories is complete (IsReady), quota included.
        Files.MakeDirectory(WorkPath(index));
        Files.MakeDirectory(UpperPath(index));
    }

    private void LimitToQuota(string subvolume) =>
        Btrfs.LimitQgroup(subvolume, Btrfs.SubvolumeId(subvolume), (ulong)QuotaBytes);

    private bool IsReady(int index) =>
        System.IO.Directory.Exists(UpperPath(index)) && System.IO.Directory.Exists(WorkPath(index));

    private bool IsLeased(int index) => File.Exists(MarkerPath(index));

    private string? ReadLease(int index)
    {
        try
        {
            return File.ReadAllText(MarkerPath(index)).Split('\n')[0];
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private void WriteMarker(int index, string lease)
    {
        // CreateNew (O_EXCL) guards the marker even apart from the pool lock; the pid is for people reading it.
        using var marker = new FileStream(MarkerPath(index), FileMode.CreateNew, FileAccess.Write);
        marker.Write(Encoding.UTF8.GetBytes($"{lease}\npid {Environment.ProcessId}\n"));
        marker.Flush(flushToDisk: true); // a lease must not vanish in a power loss while the jail's writes survive
    }

    private PoolSlot Describe(int index, string lease) =>
        new(index, SlotPath(index), UpperPath(index), WorkPath(index), lease);

    private static string SlotName(int index) => $"slot-{index}";

    private string SlotPath(int index) => Path.Combine(Directory, SlotName(index));

    private string UpperPath(int index) => Path.Combine(SlotPath(index), "upper");

    private string WorkPath(int index) => Path.Combine(SlotPath(index), "work");

    private string MarkerPath(int index) => Path.Combine(Directory, SlotName(index) + ".taken");
}

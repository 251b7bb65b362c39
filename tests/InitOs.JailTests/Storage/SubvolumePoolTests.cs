using System.Diagnostics;
using InitOs.Jails.Storage;
using InitOs.Sys;
using InitOs.TestKit;
using Xunit.Abstractions;

namespace InitOs.JailTests.Storage;

/// <summary>The slot pool on a real btrfs: slots, quotas, leases across pool instances, release.</summary>
public sealed class SubvolumePoolTests(ITestOutputHelper output)
{
    private const long Quota = 32L << 20;

    [Fact]
    public void Ensure_creates_each_slot_as_a_subvolume_with_its_quota_and_is_idempotent()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 3);

        var clock = Stopwatch.StartNew();
        pool.Ensure();
        output.WriteLine($"Ensure: 3 slots (create + limit + 2 mkdir each) in {clock.Elapsed.TotalMilliseconds:F2} ms, quota kind {pool.QuotaKind}");

        Assert.Equal(btrfs.SysfsQuotaMode() == "squota" ? BtrfsQuotaKind.Simple : BtrfsQuotaKind.Qgroups, pool.QuotaKind);
        var qgroups = btrfs.Qgroups();
        var ids = new List<ulong>();
        for (int i = 0; i < 3; i++)
        {
            string slot = Path.Combine(pool.Directory, $"slot-{i}");
            Assert.True(Btrfs.IsSubvolume(slot), $"{slot} is not a subvolume");
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(slot, "upper")));
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(slot, "work")));
            ulong id = Btrfs.SubvolumeId(slot);
            Assert.Equal(Quota, qgroups[id].MaxReferenced);
            Assert.Equal(Quota, qgroups[id].MaxExclusive);
            ids.Add(id);
        }
        Assert.False(Directory.Exists(Path.Combine(pool.Directory, "slot-3")));

        pool.Ensure();
        Assert.Equal(ids, Enumerable.Range(0, 3).Select(i => Btrfs.SubvolumeId(Path.Combine(pool.Directory, $"slot-{i}"))));
    }

    [Fact]
    public void On_a_filesystem_that_already_has_classic_qgroups_the_pool_says_so_and_its_quota_holds()
    {
        using var btrfs = new BtrfsLoop();
        Tool.Run("btrfs", "quota", "enable", btrfs.MountPoint); // classic qgroups, as on a pre-6.7 kernel
        var pool = NewPool(btrfs, slots: 1);

        pool.Ensure();

        Assert.Equal("qgroup", btrfs.SysfsQuotaMode());
        Assert.Equal(BtrfsQuotaKind.Qgroups, pool.QuotaKind);
        var slot = pool.Take();
        var (refusal, bytes) = DiskFiller.FillUntilRefused(Path.Combine(slot.Upper, "fill"));
        Assert.Contains("Disk quota exceeded", refusal);
        Assert.InRange(bytes, Quota - (4L << 20), Quota);
    }

    [Fact]
    public async Task Concurrent_takers_with_their_own_pool_instances_never_share_a_slot()
    {
        using var btrfs = new BtrfsLoop();
        NewPool(btrfs, slots: 4).Ensure();
        const int takers = 8;
        using var start = new Barrier(takers);

        // Each taker has its own pool object, so its own lock file description: to flock they are as separate as processes.
        var taken = Enumerable.Range(0, takers)
            .Select(_ => Task.Factory.StartNew(() =>
            {
                var pool = NewPool(btrfs, slots: 4);
                start.SignalAndWait();
                return pool.TryTake();
            }, TaskCreationOptions.LongRunning))
            .ToArray();
        var results = await Task.WhenAll(taken);

        var slots = results.OfType<PoolSlot>().ToList();
        Assert.Equal(4, slots.Count);
        Assert.Equal([0, 1, 2, 3], slots.Select(s => s.Index).Order());
        Assert.Equal(4, slots.Select(s => s.Lease).Distinct().Count());
        var exhausted = Assert.Throws<StoragePoolException>(() => NewPool(btrfs, slots: 4).Take());
        Assert.Contains("no free slot", exhausted.Message);
    }

    [Fact]
    public void Take_waits_while_another_process_holds_the_pool_lock()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 1);
        pool.Ensure();
        var info = new ProcessStartInfo("flock", [Path.Combine(pool.Directory, "pool.lock"), "-c", "echo locked; sleep 1"])
        {
            RedirectStandardOutput = true,
        };
        using var holder = Process.Start(info)!;
        Assert.Equal("locked", holder.StandardOutput.ReadLine());

        var clock = Stopwatch.StartNew();
        var slot = pool.TryTake();
        clock.Stop();
        holder.WaitForExit();

        Assert.NotNull(slot);
        Assert.True(clock.ElapsedMilliseconds >= 500, $"Take returned after {clock.ElapsedMilliseconds} ms while flock(1) held the pool lock");
    }

    [Fact]
    public void Release_destroys_what_the_jail_wrote_and_the_slot_comes_back_fresh_with_its_quota()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 1);
        pool.Ensure();
        var slot = pool.Take();
        ulong oldId = Btrfs.SubvolumeId(slot.Subvolume);
        string written = Path.Combine(slot.Upper, "etc", "written-by-the-jail");
        Directory.CreateDirectory(Path.GetDirectoryName(written)!);
        File.WriteAllText(written, "old upper");
        var (refusal, _) = DiskFiller.FillUntilRefused(Path.Combine(slot.Upper, "fill"));
        Assert.Contains("Disk quota exceeded", refusal);

        var clock = Stopwatch.StartNew();
        pool.Release(slot);
        output.WriteLine($"Release of a full slot (destroy + create + limit + 2 mkdir): {clock.Elapsed.TotalMilliseconds:F2} ms");

        Assert.False(File.Exists(written));
        Assert.Empty(Directory.EnumerateFileSystemEntries(slot.Upper));
        Assert.Empty(Directory.EnumerateFileSystemEntries(slot.Work));
        ulong newId = Btrfs.SubvolumeId(slot.Subvolume);
        Assert.NotEqual(oldId, newId);
        Assert.Equal(Quota, btrfs.Qgroups()[newId].MaxReferenced);

        var again = pool.Take();
        Assert.Equal(0, again.Index);
        Assert.NotEqual(slot.Lease, again.Lease);
        // The old run's bytes are not charged to the new subvolume: the whole quota is there again, and no more.
        var (refusedAgain, bytes) = DiskFiller.FillUntilRefused(Path.Combine(again.Upper, "fill"));
        Assert.Contains("Disk quota exceeded", refusedAgain);
        Assert.InRange(bytes, Quota - (4L << 20), Quota);
    }

    [Fact]
    public void Release_times_for_repeated_jail_runs()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 2);
        pool.Ensure();
        const int runs = 20;
        var clock = new Stopwatch();
        for (int run = 0; run < runs; run++)
        {
            var slot = pool.Take();
            File.WriteAllBytes(Path.Combine(slot.Upper, "data"), new byte[1 << 20]);
            clock.Start();
            pool.Release(slot);
            clock.Stop();
        }
        double average = clock.Elapsed.TotalMilliseconds / runs;
        output.WriteLine($"Release (destroy + create + limit + 2 mkdir) averaged {average:F2} ms over {runs} runs");
        Assert.True(average < 100, $"Release took {average:F2} ms on average");
    }

    [Fact]
    public void Release_under_a_lease_that_is_not_the_slots_destroys_nothing()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 2);
        pool.Ensure();
        var slot = pool.Take();
        string written = Path.Combine(slot.Upper, "keep");
        File.WriteAllText(written, "still running");

        var stale = Assert.Throws<StoragePoolException>(() => pool.Release(slot.Index, "0123456789abcdef"));
        Assert.Contains(slot.Subvolume, stale.Message);
        var free = Assert.Throws<StoragePoolException>(() => pool.Release(1, slot.Lease));
        Assert.Contains("not leased", free.Message);
        Assert.True(File.Exists(written));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Release(2, slot.Lease));
    }

    [Fact]
    public void Ensure_finishes_a_release_that_stopped_after_the_destroy()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 1);
        pool.Ensure();
        var slot = pool.Take();
        Btrfs.DeleteSubvolume(pool.Directory, "slot-0"); // as if Release died right after its destroy

        Assert.Null(pool.TryTake());
        pool.Ensure();

        var again = pool.Take();
        Assert.Equal(0, again.Index);
        Assert.Equal(Quota, btrfs.Qgroups()[Btrfs.SubvolumeId(again.Subvolume)].MaxReferenced);
        Assert.Throws<StoragePoolException>(() => pool.Release(slot));
    }

    [Fact]
    public void ResetAll_frees_every_slot_leased_before_a_crash_and_empties_it()
    {
        using var btrfs = new BtrfsLoop();
        var pool = NewPool(btrfs, slots: 2);
        pool.Ensure();
        var first = pool.Take();
        var second = pool.Take();
        File.WriteAllText(Path.Combine(first.Upper, "a"), "a");
        File.WriteAllText(Path.Combine(second.Upper, "b"), "b");

        NewPool(btrfs, slots: 2).ResetAll(); // a new process at boot, with the old leases lost

        Assert.Empty(Directory.EnumerateFileSystemEntries(first.Upper));
        Assert.Empty(Directory.EnumerateFileSystemEntries(second.Upper));
        Assert.Equal([0, 1], new[] { pool.Take().Index, pool.Take().Index });
    }

    [Fact]
    public void A_pool_directory_not_on_btrfs_is_refused_naming_it()
    {
        using var tmpfs = new TmpfsMount();
        var refused = Assert.Throws<ArgumentException>(() => new SubvolumePool(tmpfs.Path, 2, Quota));
        Assert.Contains(tmpfs.Path, refused.Message);
        Assert.Contains("not on btrfs", refused.Message);

        string missing = Path.Combine(tmpfs.Path, "no-such-pool");
        var absent = Assert.Throws<ArgumentException>(() => new SubvolumePool(missing, 2, Quota));
        Assert.Contains(missing, absent.Message);
    }

    [Fact]
    public void A_slot_count_below_one_or_a_tiny_quota_is_refused_naming_the_value()
    {
        using var btrfs = new BtrfsLoop();
        string directory = btrfs.MountPoint;
        var count = Assert.Throws<ArgumentOutOfRangeException>(() => new SubvolumePool(directory, 0, Quota));
        Assert.Equal("slotCount", count.ParamName);
        Assert.Contains("0", count.Message);
        var quota = Assert.Throws<ArgumentOutOfRangeException>(() => new SubvolumePool(directory, 2, 1 << 20));
        Assert.Equal("quotaBytes", quota.ParamName);
        Assert.Contains("1048576", quota.Message);
    }

    private static SubvolumePool NewPool(BtrfsLoop btrfs, int slots)
    {
        string directory = Path.Combine(btrfs.MountPoint, "pool");
        Directory.CreateDirectory(directory);
        return new SubvolumePool(directory, slots, Quota);
    }
}

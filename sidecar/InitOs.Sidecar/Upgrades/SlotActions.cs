namespace InitOs.Sidecar.Upgrades;

/// <summary>What changes a slot after it is staged: bless, mark bad, prune. Each through the numbered steps.</summary>
public static class SlotActions
{
    /// <summary>Drops the counter (systemd-bless-boot's "good"), then removes what is beyond the kept versions.</summary>
    /// <param name="floor">The running release's signed [upgrade] min_version: no entry below it stays bootable (anti-rollback).</param>
    public static BootEntry Bless(EspSlots slots, Slot slot, int keepPrevious, DurableSteps steps, string? floor = null)
    {
        var blessed = slot.Entry.Blessed;
        if (blessed != slot.Entry)
        {
            steps.Rename(slots.PathOf(slot.Entry), slots.PathOf(blessed));
            steps.SyncDirectory(slots.Directory);
        }
        Prune(slots, keepPrevious, steps, floor);
        return blessed;
    }

    /// <summary>No tries left (systemd-bless-boot's "bad"): systemd-boot sorts it after every other entry and boots the newest good one.</summary>
    public static BootEntry MarkBad(EspSlots slots, Slot slot, DurableSteps steps)
    {
        var bad = slot.Entry.MarkedBad;
        if (bad != slot.Entry)
        {
            steps.Rename(slots.PathOf(slot.Entry), slots.PathOf(bad));
            steps.SyncDirectory(slots.Directory);
        }
        return bad;
    }

    /// <summary>
    /// Keeps the running entry, entries newer than it (staged, not yet tried), and the
    /// <paramref name="keepPrevious"/> newest good versions below it; removes the rest: older
    /// good ones past the count, and bad ones below the running version. With a floor (the running
    /// release's min_version, which its signed config carries across boots), entries below it go
    /// whatever the count: systemd-boot must not fall back to a version the release rules out.
    /// </summary>
    public static IReadOnlyList<BootEntry> Prune(EspSlots slots, int keepPrevious, DurableSteps steps, string? floor = null)
    {
        var running = UpgradeVersion.Parse(slots.RunningVersion, "the running release");
        var low = floor is null ? null : UpgradeVersion.Parse(floor, "the floor");
        var older = slots.List().Where(s => !s.Running && UpgradeVersion.Parse(s.Entry.Version, "an entry").CompareTo(running) < 0).ToList();
        var kept = older.Where(s => s.Entry.State == EntryState.Good && (low is null || UpgradeVersion.Parse(s.Entry.Version, "an entry").CompareTo(low) >= 0)).Take(keepPrevious).ToHashSet();
        var removed = older.Where(s => !kept.Contains(s)).Select(s => s.Entry).ToList();
        foreach (var entry in removed)
        {
            steps.Delete(slots.PathOf(entry));
        }
        if (removed.Count > 0)
        {
            steps.SyncDirectory(slots.Directory);
        }
        return removed;
    }
}

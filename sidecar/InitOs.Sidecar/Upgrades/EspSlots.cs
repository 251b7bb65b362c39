using InitOs.Init.Config;

namespace InitOs.Sidecar.Upgrades;

/// <summary>An entry on the ESP and whether it is the one running now.</summary>
public sealed record Slot(BootEntry Entry, long Bytes, bool Running)
{
    /// <summary>good, bad, trial; the running entry with a counter is "trial" even at 0 left (systemd-boot renames before it boots the last try).</summary>
    public string StateName => Running && Entry.TriesLeft is not null ? "trial" : Entry.State.ToString().ToLowerInvariant();
}

/// <summary>
/// The upgrade slots: InitOS's UKIs in the ESP's EFI/Linux, as systemd-boot sees them (type-2
/// entries, newest version first, entries with no tries left last). The ESP is mounted at
/// /run/initos/esp by the boot's upgrade phase. Only files named as slots are looked at; the
/// running one is the entry of the release the signed config names.
/// </summary>
public sealed class EspSlots
{
    public const string MountPoint = "/run/initos/esp";
    public const string EntriesDirectory = "EFI/Linux";

    private readonly string _running;

    private EspSlots(string root, string running)
    {
        Root = root;
        _running = running;
    }

    public string Root { get; }

    public string Directory => Path.Combine(Root, EntriesDirectory);

    /// <summary>The slots of the ESP at <paramref name="root"/>, with <paramref name="runningVersion"/> the release running now.</summary>
    public static EspSlots Open(string runningVersion, string root = MountPoint)
    {
        if (!System.IO.Directory.Exists(Path.Combine(root, EntriesDirectory)))
        {
            throw new InvalidOperationException($"no ESP with {EntriesDirectory} at {root} (the boot's upgrade phase mounts it; did it log why not?)");
        }
        return new EspSlots(root, runningVersion);
    }

    /// <summary>For the sidecar: the signed config's release, and the ESP where the boot mounted it.</summary>
    public static EspSlots ForThisMachine(UpgradeConfig config) =>
        config.Enabled
            ? Open(config.Version!)
            : throw new InvalidOperationException("upgrades are off on this machine: its config has no [upgrade] keys and version");

    /// <summary>Newest first, as systemd-boot orders them: by version, with no-tries-left entries after all others.</summary>
    public IReadOnlyList<Slot> List()
    {
        var slots = new List<Slot>();
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            if (BootEntry.Parse(file.Name) is { } entry && file.Name == entry.FileName)
            {
                slots.Add(new Slot(entry, file.Length, IsRunning(entry)));
            }
        }
        return slots
            .OrderBy(s => s.Entry.State == EntryState.Bad && !s.Running ? 1 : 0)
            .ThenByDescending(s => UpgradeVersion.Parse(s.Entry.Version, "an entry"), Comparer<UpgradeVersion>.Create((a, b) => a.CompareTo(b)))
            .ThenByDescending(s => s.Entry.TriesLeft ?? int.MaxValue)
            .ToList();
    }

    public Slot? Running => List().FirstOrDefault(s => s.Running);

    public string PathOf(BootEntry entry) => Path.Combine(Directory, entry.FileName);

    private bool IsRunning(BootEntry entry) =>
        UpgradeVersion.Parse(entry.Version, "an entry").CompareTo(UpgradeVersion.Parse(_running, "the running release")) == 0;

    /// <summary>The version running now: the signed config's [upgrade] version.</summary>
    public string RunningVersion => _running;
}

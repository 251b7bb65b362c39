using InitOs.ImageBuild.Bundle;
using InitOs.Sidecar.Upgrades;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>
/// The upgrade slots on a loop-mounted filesystem standing in for the ESP (ext4: test hosts'
/// kernels may have no FAT, as this one; the ESP's own FAT is written by UpgradeBootTests under
/// QEMU): a verified bundle's UKI
/// staged as a counted boot entry through the numbered steps; refusals (a flipped bit, a version
/// not newer than the running one, an OS image, no room) that leave the ESP as it was; blessing,
/// marking bad and pruning by file name, as systemd-boot reads them.
/// </summary>
public sealed class UpgradeSlotTests : IDisposable
{
    private const string MachineClass = "qemu-test";
    private readonly TempDirectory _dir = new("initos-slot-test-");
    private readonly string _esp;
    private readonly List<string> _log = [];

    public UpgradeSlotTests()
    {
        var image = _dir.File("esp.img");
        Tool.Run("truncate", "-s", "16M", image);
        Tool.Run("mkfs.ext4", "-q", "-L", "ESP", image);
        _esp = Directory.CreateDirectory(_dir.File("esp")).FullName;
        Tool.Run("mount", "-o", "loop", image, _esp);
        Directory.CreateDirectory(Path.Combine(_esp, EspSlots.EntriesDirectory));
    }

    public void Dispose()
    {
        Tool.Run("umount", _esp);
        _dir.Dispose();
    }

    private string Linux(string name) => Path.Combine(_esp, EspSlots.EntriesDirectory, name);

    private string[] Entries() => Directory.GetFileSystemEntries(Path.Combine(_esp, EspSlots.EntriesDirectory)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    private void Place(string name, string version) => TestUki.Write(Linux(name), version);

    private string Key()
    {
        var path = _dir.File("release");
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release", "-f", path);
        }
        return path;
    }

    private byte[] Bundle(string version, IReadOnlyList<KeyValuePair<string, string>>? images = null, string? uki = null)
    {
        uki ??= TestUki.Write(_dir.File($"uki-{version}/initos.efi"), version);
        var output = _dir.File($"bundle-{version}-{Guid.NewGuid():N}.tar");
        BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", uki, images ?? [], Key()), output);
        return File.ReadAllBytes(output);
    }

    private TrustPolicy Policy => new([File.ReadAllText(Key() + ".pub").Trim()], MachineClass, "1.0");

    private (EspUkiSink Sink, DurableSteps Steps) Sink(string running = "1.0")
    {
        var steps = new DurableSteps(_log.Add);
        return (new EspUkiSink(EspSlots.Open(running, _esp), steps, tries: 3, _log.Add), steps);
    }

    private VerifiedBundle Apply(byte[] bundle, EspUkiSink sink) =>
        BundleReader.Read(new TarBundleSource(new MemoryStream(bundle)), Policy, sink);

    [Theory]
    [InlineData("initos-2.0.efi", "2.0", null, null, EntryState.Good)]
    [InlineData("initos-2.0+3.efi", "2.0", 3, null, EntryState.Trial)]
    [InlineData("initos-2.10.1+2-1.efi", "2.10.1", 2, 1, EntryState.Trial)]
    [InlineData("initos-3.0+0-3.efi", "3.0", 0, 3, EntryState.Bad)]
    public void An_entry_file_name_says_its_version_and_counter(string name, string version, int? left, int? done, EntryState state)
    {
        var entry = BootEntry.Parse(name);
        Assert.Equal(new BootEntry(version, left, done), entry);
        Assert.Equal(state, entry!.State);
        Assert.Equal(name, entry.FileName);
        Assert.Equal($"initos-{version}.efi", entry.Blessed.FileName);
        Assert.Equal($"initos-{version}+0-{done ?? 0}.efi", entry.MarkedBad.FileName);
    }

    [Theory]
    [InlineData("initos.efi")]
    [InlineData("initos-2.0+x.efi")]
    [InlineData("initos-2.0+3-.efi")]
    [InlineData("initos-v2.efi")]
    [InlineData("other-2.0.efi")]
    [InlineData(".initos-2.0.efi.partial")]
    [InlineData("initos-2.0+3.efi.partial")]
    public void Other_files_are_not_entries(string name) => Assert.Null(BootEntry.Parse(name));

    [Fact]
    public void A_verified_uki_is_staged_as_a_counted_entry_beside_the_running_one_through_numbered_steps()
    {
        Place("initos-1.0.efi", "1.0");
        var running = File.ReadAllBytes(Linux("initos-1.0.efi"));
        var bundle = Bundle("2.0");
        var (sink, steps) = Sink();

        Apply(bundle, sink);

        Assert.Equal(["initos-1.0.efi", "initos-2.0+3.efi"], Entries());
        Assert.Equal(File.ReadAllBytes(_dir.File("uki-2.0/initos.efi")), File.ReadAllBytes(Linux("initos-2.0+3.efi")));
        Assert.Equal(running, File.ReadAllBytes(Linux("initos-1.0.efi")));
        Assert.Equal(new BootEntry("2.0", 3, null), sink.Staged);
        var stepLines = _log.Where(l => l.StartsWith("upgrade: step ", StringComparison.Ordinal)).ToList();
        Assert.Equal(steps.Count, stepLines.Count);
        // Whole 1 MiB chunks whatever the reads delivered: create, one write (the UKI is under 1 MiB), fsync, rename, fsync it under its new name (vfat), fsync the directory.
        Assert.Equal(["create", "write", "fsync", "rename", "fsync", "fsync"], stepLines.Select(l => l.Split(' ')[3]));
        Assert.EndsWith("fsync " + Linux("initos-2.0+3.efi"), stepLines[^2], StringComparison.Ordinal);
        Assert.StartsWith("upgrade: step 1: create ", stepLines[0], StringComparison.Ordinal);
        Assert.Contains(stepLines, l => l.Contains("rename ", StringComparison.Ordinal) && l.EndsWith("/initos-2.0+3.efi", StringComparison.Ordinal));
        Assert.StartsWith($"upgrade: step {steps.Count}: fsync directory ", stepLines[^1], StringComparison.Ordinal);

        // systemd-boot's view: the new version first, with three tries; the running one good.
        var slots = EspSlots.Open("1.0", _esp).List();
        Assert.Equal([("2.0", "trial", false), ("1.0", "good", true)], slots.Select(s => (s.Entry.Version, s.Entry.State.ToString().ToLowerInvariant(), s.Running)));
    }

    [Fact]
    public void A_flipped_bit_in_the_uki_leaves_the_esp_as_it_was()
    {
        Place("initos-1.0.efi", "1.0");
        var bundle = Bundle("2.0");
        var uki = File.ReadAllBytes(_dir.File("uki-2.0/initos.efi"));
        int at = bundle.AsSpan().IndexOf(uki.AsSpan(0, 4096)) + 1000;
        bundle[at] ^= 0x10;

        var error = Assert.Throws<BundleException>(() => Apply(bundle, Sink().Sink));

        Assert.Contains("uki initos.efi: its bytes do not match the signed digest", error.Message, StringComparison.Ordinal);
        Assert.Equal(["initos-1.0.efi"], Entries());
    }

    [Fact]
    public void A_version_not_newer_than_the_running_one_an_os_image_and_too_little_room_are_refused_before_a_byte_is_written()
    {
        Place("initos-2.0.efi", "2.0");
        var same = Assert.Throws<BundleException>(() => Apply(Bundle("2.0"), Sink("2.0").Sink));
        Assert.Equal("the bundle's version 2.0 is not newer than the running 2.0; `upgrade rollback` goes back to a kept version", same.Message);

        File.WriteAllBytes(_dir.File("debian.erofs"), new byte[5000]);
        var image = Assert.Throws<BundleException>(() => Apply(Bundle("2.1", [new("debian", _dir.File("debian.erofs"))]), Sink("2.0").Sink));
        Assert.StartsWith("os-image debian: this machine runs no OS from the data volume", image.Message, StringComparison.Ordinal);

        // Fill the ESP until the new UKI cannot fit with the margin.
        var free = (long)InitOs.Sys.FileSystems.Status(_esp).AvailableBytes;
        File.WriteAllBytes(Path.Combine(_esp, "filler"), new byte[free - EspUkiSink.Margin - 4096]);
        var full = Assert.Throws<BundleException>(() => Apply(Bundle("2.1"), Sink("2.0").Sink));
        Assert.Matches(@"^the ESP has \d+ MiB free and the UKI needs \d+ MiB; nothing was written", full.Message);

        Assert.Equal(["initos-2.0.efi"], Entries());
        Assert.DoesNotContain(_log, l => l.StartsWith("upgrade: step", StringComparison.Ordinal));
    }

    [Fact]
    public void A_partial_file_a_power_cut_left_is_replaced_and_an_earlier_try_of_the_same_version_goes()
    {
        Place("initos-1.0.efi", "1.0");
        File.WriteAllBytes(Linux(".initos-2.0.efi.partial"), new byte[1234]);
        Place("initos-2.0+0-3.efi", "2.0");

        Apply(Bundle("2.0"), Sink().Sink);

        Assert.Equal(["initos-1.0.efi", "initos-2.0+3.efi"], Entries());
    }

    [Fact]
    public void Blessing_drops_the_counter_and_keeps_the_configured_previous_versions_marking_bad_leaves_no_tries()
    {
        Place("initos-0.8.efi", "0.8");
        Place("initos-0.9+0-3.efi", "0.9");
        Place("initos-1.0.efi", "1.0");
        Place("initos-1.5.efi", "1.5");
        Place("initos-2.0+2-1.efi", "2.0");
        Place("initos-3.0+3.efi", "3.0");
        var slots = EspSlots.Open("2.0", _esp);
        var running = slots.Running!;
        Assert.Equal("trial", running.StateName);

        var blessed = SlotActions.Bless(slots, running, keepPrevious: 1, new DurableSteps(_log.Add));

        Assert.Equal("initos-2.0.efi", blessed.FileName);
        // Kept: the running one, the newest good one below it, and 3.0 (staged, not tried yet).
        Assert.Equal(["initos-1.5.efi", "initos-2.0.efi", "initos-3.0+3.efi"], Entries());

        var bad = SlotActions.MarkBad(slots, slots.Running!, new DurableSteps(_log.Add));
        Assert.Equal("initos-2.0+0-0.efi", bad.FileName);
        // systemd-boot's order: entries with no tries left go last.
        Assert.Equal(["3.0", "1.5", "2.0"], EspSlots.Open("1.5", _esp).List().Select(s => s.Entry.Version));
    }

    [Fact]
    public void Blessing_under_a_raised_floor_removes_the_kept_versions_below_it()
    {
        Place("initos-1.0.efi", "1.0");
        Place("initos-1.5.efi", "1.5");
        Place("initos-2.0+2-1.efi", "2.0");
        var slots = EspSlots.Open("2.0", _esp);
        // 2.0's signed config says min_version = "1.8": 1.5 would be the kept previous version, but is below it.
        SlotActions.Bless(slots, slots.Running!, keepPrevious: 1, new DurableSteps(_log.Add), floor: "1.8");
        Assert.Equal(["initos-2.0.efi"], Entries());
    }
}

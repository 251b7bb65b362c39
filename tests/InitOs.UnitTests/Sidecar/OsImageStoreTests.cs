using InitOs.ImageBuild.Bundle;
using InitOs.Sidecar.Upgrades;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>
/// A jailed OS's images from bundles on a directory standing in for the data volume's images/:
/// a verified bundle's squashfs staged as NAME@V through the numbered steps, its proof and the
/// pointer beside it; the image proven again from them as PID 1 does at each start, and refused
/// by name when a byte of it, its proof or its pointer is not what was signed; the plan's
/// refusals (another image name, a UKI where none may be, a version not newer, a trial under
/// way) with nothing written; a UKI and its image staged in the order that keeps a power cut
/// safe; ext4 only for an unprivileged jail.
/// </summary>
public sealed class OsImageStoreTests : IDisposable
{
    private const string MachineClass = "qemu-test";
    private readonly TempDirectory _dir = new("initos-image-store-test-");
    private readonly List<string> _log = [];
    private readonly OsImageStore _store;

    public OsImageStoreTests() => _store = new OsImageStore(Directory.CreateDirectory(_dir.File("images")).FullName, "debian");

    public void Dispose() => _dir.Dispose();

    private string Key(string name = "release")
    {
        var path = _dir.File(name);
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    /// <summary>The machine's signed config as the judge reads it: this test's release key and machine class, one previous version kept.</summary>
    private Init.Config.InitosConfig Settings() => new()
    {
        Upgrade = new Init.Config.UpgradeConfig { Keys = [File.ReadAllText(Key() + ".pub").Trim()], Compatible = MachineClass, KeepPrevious = 1 },
    };

    private TrustPolicy Policy(string key = "release", string minimum = "1.0") => new([File.ReadAllText(Key(key) + ".pub").Trim()], MachineClass, minimum);

    /// <summary>A squashfs of a small tree that says its version.</summary>
    private string Image(string version)
    {
        var tree = Directory.CreateDirectory(_dir.File($"tree-{version}/etc")).Parent!.FullName;
        File.WriteAllText(Path.Combine(tree, "etc/os-version"), version + "\n");
        var image = _dir.File($"os-{version}.squashfs");
        File.Delete(image);
        InitOs.ImageBuild.Rootfs.OsImageFile.Squashfs(tree, image);
        return image;
    }

    private byte[] Bundle(string version, string name = "debian", string? uki = null, string key = "release", string floor = "1.0")
    {
        var output = _dir.File($"bundle-{version}-{Guid.NewGuid():N}.tar");
        BundleWriter.Write(new BundleSpec(version, MachineClass, floor, uki, [new(name, Image(version))], Key(key)), output);
        return File.ReadAllBytes(output);
    }

    /// <summary>What `upgrade apply` does before it asks PID 1 for the restart: the image, its proof, the pointer naming it the trial.</summary>
    private (VerifiedBundle Bundle, OsImageSink Sink) Stage(byte[] bundle, int tries = 2)
    {
        var steps = new DurableSteps(_log.Add);
        var sink = new OsImageSink(_store, steps, _log.Add);
        var verified = BundleReader.Read(new TarBundleSource(new MemoryStream(bundle)), Policy(), sink);
        JailedUpgrade.Stage(Settings() with { Upgrade = Settings().Upgrade with { Tries = tries } }, _store, sink, verified, steps);
        return (verified, sink);
    }

    private string[] Files() => Directory.GetFileSystemEntries(_store.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void A_staged_image_is_proven_again_from_its_proof_and_the_pointer_names_it_the_trial()
    {
        Stage(Bundle("2.0"));
        Assert.Equal(["debian.current", "debian@2.0", "debian@2.0.proof"], Files());
        Assert.Equal(new ImagePointer(null, "2.0", 2), _store.ReadPointer());
        var proven = _store.Prove("2.0", Policy());
        Assert.Equal("squashfs", proven.FsType);
        Assert.Equal("debian@2.0", proven.Label);
        Assert.Equal(File.ReadAllText(Key() + ".pub").Trim(), proven.Key);
        Assert.Contains(_log, l => l.Contains("step 1: create", StringComparison.Ordinal) && l.Contains(".debian@2.0.partial", StringComparison.Ordinal));
        Assert.Contains(_log, l => l.Contains("rename", StringComparison.Ordinal) && l.EndsWith("→ " + _store.ImagePath("2.0"), StringComparison.Ordinal));
    }

    [Fact]
    public void A_byte_changed_in_the_image_or_its_proof_or_another_keyring_is_refused_by_name()
    {
        Stage(Bundle("2.0"));
        var image = _store.ImagePath("2.0");
        var bytes = File.ReadAllBytes(image);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(image, bytes);
        var e = Assert.Throws<BundleException>(() => _store.Prove("2.0", Policy()));
        Assert.Contains("its SHA-256 is", e.Message, StringComparison.Ordinal);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(image, bytes);
        _store.Prove("2.0", Policy());

        var other = Assert.Throws<BundleException>(() => _store.Prove("2.0", Policy("another")));
        Assert.Contains("not in the keyring", other.Message, StringComparison.Ordinal);

        var floor = Assert.Throws<BundleException>(() => _store.Prove("2.0", Policy(minimum: "2.1")));
        Assert.Contains("below this machine's minimum 2.1", floor.Message, StringComparison.Ordinal);

        // The proof of 2.0 copied beside an image file named 3.0 says 2.0.
        File.Copy(image, _store.ImagePath("3.0"));
        File.Copy(_store.ProofPath("2.0"), _store.ProofPath("3.0"));
        var renamed = Assert.Throws<BundleException>(() => _store.Prove("3.0", Policy()));
        Assert.Contains("the signed version is 2.0, not the 3.0 its name says", renamed.Message, StringComparison.Ordinal);

        var proof = File.ReadAllText(_store.ProofPath("2.0"));
        File.WriteAllText(_store.ProofPath("2.0"), proof.Replace("\"manifest\": \"ey", "\"manifest\": \"EY", StringComparison.Ordinal));
        Assert.Throws<BundleException>(() => _store.Prove("2.0", Policy()));
    }

    [Fact]
    public void A_pointer_line_that_is_not_good_or_trial_is_named_by_file_and_line()
    {
        Assert.Equal(new ImagePointer("2.0", "3.0", 1, "1.5"), ImagePointer.Parse(new ImagePointer("2.0", "3.0", 1, "1.5").Format(), "p"));
        Assert.Equal(new ImagePointer("2.0", "3.0", 1, "1.5", "3.0"), ImagePointer.Parse(new ImagePointer("2.0", "3.0", 1, "1.5", "3.0").Format(), "p"));
        var e = Assert.Throws<BundleException>(() => ImagePointer.Parse("# c\ngood 2.0\ngood ../../etc\n", "/data/images/debian.current"));
        Assert.Equal("/data/images/debian.current:3: \"good ../../etc\" is not `good VERSION`, `trial VERSION tries N [uki VERSION]` or `floor VERSION` (each at most once)", e.Message);
        Assert.Throws<BundleException>(() => ImagePointer.Parse("trial 3.0 tries 1 uki ../x\n", "p"));
        Assert.Throws<BundleException>(() => ImagePointer.Parse("trial 3.0 tries 1 kernel 3.0\n", "p"));
        Assert.Throws<BundleException>(() => ImagePointer.Parse("trial 3.0 tries -1\n", "p"));
        Assert.Throws<BundleException>(() => ImagePointer.Parse("good 2.0\ngood 3.0\n", "p"));
    }

    [Fact]
    public void The_plan_refuses_another_name_a_uki_an_older_version_and_a_second_trial_with_nothing_written()
    {
        var refusals = new List<string>();
        void Refused(byte[] bundle, string expected)
        {
            var before = Files();
            var e = Assert.Throws<BundleException>(() => Stage(bundle));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.Equal(before, Files());
        }
        Refused(Bundle("2.0", name: "alpine"), "os-image alpine: this machine's jail runs the image \"debian\"");
        Refused(Bundle("2.0", uki: TestUki.Write(_dir.File("uki/initos.efi"), "2.0")), "uki initos.efi: a bundle for a jailed OS carries OS images, and at most the UKI they come with");
        Stage(Bundle("2.0"));
        Refused(Bundle("3.0"), "debian@2.0 is on trial (2 starts left)");
        JailedUpgrade.Bless(Settings(), _store, "2.0", new DurableSteps(_log.Add));
        Assert.Equal(new ImagePointer("2.0", null, 0, "1.0"), _store.ReadPointer());
        Refused(Bundle("2.0"), "the bundle's version 2.0 is not newer than the running image debian@2.0");
        Refused(Bundle("1.5"), "not newer");
    }

    /// <summary>
    /// A bundle with a UKI and an OS image, as `upgrade apply` stages it: the image staged and
    /// the UKI held back as a file systemd-boot passes over, then the pointer's trial bound to
    /// that UKI's release, and only then the UKI made an entry. A power cut before the entry
    /// leaves a trial only that release runs; dropping it removes the image and the held UKI.
    /// </summary>
    [Fact]
    public void A_uki_with_its_os_image_becomes_bootable_only_after_the_image_is_staged_and_bound_to_it()
    {
        var esp = Directory.CreateDirectory(_dir.File("esp/EFI/Linux")).Parent!.Parent!.FullName;
        TestUki.Write(Path.Combine(esp, "EFI/Linux/initos-1.0.efi"), "1.0");
        var slots = EspSlots.Open("1.0", esp);
        var steps = new DurableSteps(_log.Add);
        var boot = new EspUkiSink(slots, steps, tries: 2, _log.Add, holdEntry: true);
        var images = new OsImageSink(_store, steps, _log.Add, besideUki: true);
        var verified = BundleReader.Read(new TarBundleSource(new MemoryStream(Bundle("2.0", uki: TestUki.Write(_dir.File("uki/initos.efi"), "2.0")))), Policy(), new PairSink(boot, images));
        Assert.Equal(["initos-1.0.efi"], slots.List().Select(s => s.Entry.FileName));
        Assert.True(File.Exists(Path.Combine(slots.Directory, ".initos-2.0.efi.partial")));
        Assert.Equal(["debian@2.0"], Files());

        JailedUpgrade.Stage(Settings() with { Upgrade = Settings().Upgrade with { Tries = 2 } }, _store, images, verified, steps, uki: "2.0");
        var pointer = _store.ReadPointer()!;
        Assert.Equal(new ImagePointer(null, "2.0", 2, null, "2.0"), pointer);
        Assert.True(pointer.TrialRunsUnder("2.0"));
        Assert.False(pointer.TrialRunsUnder("1.0"));
        Assert.Contains("trial 2.0 tries 2 uki 2.0", File.ReadAllText(_store.PointerPath), StringComparison.Ordinal);

        // A power cut here: the previous UKI boots, its PID 1 passes the trial over, and its judge drops it.
        JailedUpgrade.Drop(_store, "2.0", steps);
        EspUkiSink.RemoveHeld(slots, "2.0", steps);
        Assert.Equal(new ImagePointer(null, null, 0), _store.ReadPointer());
        Assert.Equal(["debian.current"], Files());
        Assert.Equal(["initos-1.0.efi"], Directory.GetFiles(slots.Directory).Select(Path.GetFileName));

        // Without the cut: the entry comes last, counted.
        boot = new EspUkiSink(slots, steps, tries: 2, _log.Add, holdEntry: true);
        images = new OsImageSink(_store, steps, _log.Add, besideUki: true);
        verified = BundleReader.Read(new TarBundleSource(new MemoryStream(Bundle("2.0", uki: TestUki.Write(_dir.File("uki/initos.efi"), "2.0")))), Policy(), new PairSink(boot, images));
        JailedUpgrade.Stage(Settings(), _store, images, verified, steps, uki: "2.0");
        Assert.Equal("initos-2.0+2.efi", boot.Activate().FileName);
        Assert.Equal(["initos-2.0+2.efi", "initos-1.0.efi"], slots.List().Select(s => s.Entry.FileName));
        Assert.False(File.Exists(Path.Combine(slots.Directory, ".initos-2.0.efi.partial")));
    }

    [Fact]
    public void Blessing_keeps_the_previous_good_image_and_prunes_older_ones()
    {
        foreach (var version in new[] { "2.0", "3.0", "4.0" })
        {
            Stage(Bundle(version));
            JailedUpgrade.Bless(Settings(), _store, version, new DurableSteps(_log.Add));
        }
        Assert.Equal(["debian.current", "debian@3.0", "debian@3.0.proof", "debian@4.0", "debian@4.0.proof"], Files());
        Assert.Equal(["3.0", "4.0"], _store.Versions());
        Assert.Equal(new ImagePointer("4.0", null, 0, "1.0"), _store.ReadPointer());
    }

    [Fact]
    public void A_blessed_bundle_raises_the_floor_in_the_pointer_and_nothing_below_it_is_kept_staged_or_proven()
    {
        Stage(Bundle("2.0"));
        JailedUpgrade.Bless(Settings(), _store, "2.0", new DurableSteps(_log.Add));
        Stage(Bundle("3.0", floor: "2.5"));
        Assert.Equal("1.0", _store.ReadPointer()!.Floor);
        var floor = JailedUpgrade.Bless(Settings(), _store, "3.0", new DurableSteps(_log.Add));
        Assert.Equal("2.5", floor);
        Assert.Equal(new ImagePointer("3.0", null, 0, "2.5"), ImagePointer.Parse(File.ReadAllText(_store.PointerPath), _store.PointerPath));
        // 2.0 would be the kept previous version, but it is below the floor.
        Assert.Equal(["3.0"], _store.Versions());
        var e = Assert.Throws<BundleException>(() => Stage(Bundle("2.6")));
        Assert.Contains("not newer than the running image debian@3.0", e.Message, StringComparison.Ordinal);

        // What PID 1 proves with: the signed config's floor raised by the pointer's.
        Assert.Equal("2.5", _store.ReadPointer()!.Raise(Policy()).MinimumVersion);
        Assert.Equal("4.0", (_store.ReadPointer()! with { Floor = "4.0" }).Raise(Policy()).MinimumVersion);
        var below = Assert.Throws<BundleException>(() => _store.Prove("3.0", (_store.ReadPointer()! with { Floor = "4.0" }).Raise(Policy())));
        Assert.Contains("below this machine's minimum 4.0 (anti-rollback)", below.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cut_short_upgrade_leaves_a_partial_file_the_next_one_replaces()
    {
        File.WriteAllText(_store.PartialPath("2.0"), "half");
        Stage(Bundle("2.0"));
        Assert.DoesNotContain(".debian@2.0.partial", Files());
        Assert.Equal("squashfs", OsImageStore.FsTypeOf(_store.ImagePath("2.0")));
        File.WriteAllText(_dir.File("not-an-image"), new string('x', 2000));
        Assert.Throws<BundleException>(() => OsImageStore.FsTypeOf(_dir.File("not-an-image")));
    }

    /// <summary>
    /// For an unprivileged jail (its lower layer mounted idmapped, which Linux 6.1 allows on ext4
    /// and not on squashfs or erofs) the sink takes ext4 images only, checked on the proven bytes
    /// before the image is renamed in: a squashfs one is refused by name with nothing left.
    /// </summary>
    [Fact]
    public void For_an_unprivileged_jail_an_ext4_image_is_staged_and_a_squashfs_one_refused_before_it_is_kept()
    {
        var steps = new DurableSteps(_log.Add);
        var squashfs = Bundle("2.0");
        var e = Assert.Throws<BundleException>(() => BundleReader.Read(new TarBundleSource(new MemoryStream(squashfs)), Policy(), new OsImageSink(_store, steps, _log.Add, idmapped: true)));
        Assert.Equal("os-image debian: a squashfs image, and the jailed OS runs unprivileged: its lower layer is mounted idmapped, which Linux 6.1 allows on ext4 only (`initos build rootfs --format ext4`)", e.Message);
        Assert.Empty(Files());

        var tree = Directory.CreateDirectory(_dir.File("tree-ext4/etc")).Parent!.FullName;
        File.WriteAllText(Path.Combine(tree, "etc/os-version"), "2.1\n");
        var image = _dir.File("os-2.1.ext4");
        InitOs.ImageBuild.Rootfs.FilesystemImage.CreateExt4(tree, image, new InitOs.ImageBuild.Rootfs.FilesystemImage.Ext4Options("os"));
        var bundle = _dir.File("bundle-2.1.tar");
        BundleWriter.Write(new BundleSpec("2.1", MachineClass, "1.0", null, [new("debian", image)], Key()), bundle);
        var sink = new OsImageSink(_store, steps, _log.Add, idmapped: true);
        BundleReader.Read(new TarBundleSource(File.OpenRead(bundle)), Policy(), sink);
        Assert.Equal("2.1", sink.Staged);
        Assert.Equal("ext4", OsImageStore.FsTypeOf(_store.ImagePath("2.1")));
        Assert.True(OsImageStore.Idmappable("ext4"));
        Assert.False(OsImageStore.Idmappable("squashfs"));
    }

    /// <summary>
    /// Whether `upgrade apply` stages for an unprivileged jail (ext4 images only) or a privileged
    /// one: the jail's uid_map tells them apart, here a process of this host (identity) and one in
    /// a user namespace of its own.
    /// </summary>
    [Fact]
    public void The_jails_uid_map_tells_a_privileged_os_from_an_unprivileged_one()
    {
        var status = _dir.File("services.json");
        void Os(int pid) => File.WriteAllText(status, $"{{\"services\":[{{\"name\":\"sshd\",\"pid\":1,\"starts\":1,\"state\":\"running\"}},{{\"name\":\"os\",\"pid\":{pid},\"starts\":1,\"state\":\"running\"}}]}}");
        Assert.Null(ApplySink.OsUidMap(_dir.File("none.json")));
        Os(Environment.ProcessId);
        Assert.Equal("0 0 4294967295", ApplySink.OsUidMap(status));
        using var inNamespace = System.Diagnostics.Process.Start("unshare", ["--user", "--map-user=0", "--map-group=0", "sleep", "30"]);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string? map = null;
            while (DateTime.UtcNow < deadline && (map is null || map == "0 0 4294967295" || map.Length == 0))
            {
                // unshare execs sleep in the same process once the namespace and its map are made.
                Os(inNamespace.Id);
                map = ApplySink.OsUidMap(status);
                Thread.Sleep(50);
            }
            // Root of the namespace is this (root) test process, one id mapped.
            Assert.Equal("0 0 1", map);
        }
        finally
        {
            inNamespace.Kill();
            inNamespace.WaitForExit();
        }
    }
}

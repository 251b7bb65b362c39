using InitOs.Init.Devices;
using InitOs.TestKit;

namespace InitOs.UnitTests.Storage;

/// <summary>The test kit's RAID1 members as mdadm reads them, and InitOS's own reading of their superblocks.</summary>
public sealed class MdSuperblockTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-md-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Members_made_by_the_test_kit_are_what_mdadm_examines_and_initos_probes()
    {
        var data = _dir.File("data.img");
        File.WriteAllBytes(data, new byte[4 << 20]);
        var members = new[] { _dir.File("a.img"), _dir.File("b.img") };

        var uuid = MdImage.CreateRaid1(data, members, "root");

        var examined = Tool.Run("mdadm", "--examine", members[1]);
        Assert.Contains($"Array UUID : {uuid}", examined, StringComparison.Ordinal);
        Assert.Contains("Raid Level : raid1", examined, StringComparison.Ordinal);
        Assert.Contains("Raid Devices : 2", examined, StringComparison.Ordinal);
        Assert.Contains("Checksum : ", examined, StringComparison.Ordinal);
        Assert.Contains(" - correct", examined, StringComparison.Ordinal);
        Assert.Contains("Device Role : Active device 1", examined, StringComparison.Ordinal);
        using var stream = File.OpenRead(members[1]);
        var probed = MdSuperblock.Read(stream);
        Assert.Equal(new MdSuperblock(uuid, "root", 1, 2, 1, 1), probed);
        stream.Position = 0;
        var info = FilesystemProbe.Probe(stream);
        Assert.Equal("linux_raid_member", info?.Type);
        Assert.Equal(probed!.BlkidUuid, info?.Uuid);
        Assert.Equal(uuid.Replace(":", "", StringComparison.Ordinal), info!.Uuid!.Replace("-", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Status_reads_an_arrays_health_from_sysfs_now_not_as_it_was_at_boot()
    {
        var arrays = _dir.File("arrays");
        var sys = _dir.File("sys");
        Directory.CreateDirectory(Path.Combine(sys, "md127", "md"));
        File.WriteAllText(Path.Combine(sys, "md127", "md", "raid_disks"), "2\n");
        File.WriteAllText(Path.Combine(sys, "md127", "md", "degraded"), "1\n");
        File.WriteAllText(Path.Combine(sys, "md127", "md", "level"), "raid1\n");
        InitOs.Init.Storage.StorageStatus.Record(new InitOs.Init.Storage.RaidArray("mirror", "/dev/md127", "raid1", 2, 2, ["/dev/vda", "/dev/vdb"]), arrays);

        var shown = Assert.Single(InitOs.Init.Storage.StorageStatus.Read(arrays, sys));

        Assert.Equal("mirror (/dev/md127): raid1, 1 of 2 members (/dev/vda, /dev/vdb), DEGRADED, 1 of 2 members missing", shown.ToString());
    }
}

/// <summary>What `status` says about a mounted disk: encrypted when it is one of this boot's dm-crypt mappings.</summary>
public sealed class VolumeEncryptionTests
{
    [Theory]
    [InlineData("/dev/mapper/data", "encrypted (LUKS2 data)")]
    [InlineData("/dev/mapper/other", "not encrypted")]
    [InlineData("/dev/vda", "not encrypted")]
    public void A_mount_is_encrypted_only_when_its_source_is_an_opened_crypt_mapping(string source, string expected)
    {
        IReadOnlyList<(string, string, string)> opened = [("data", "/dev/vdb", "tpm (sealed for release 2.0, key slot 4)")];
        Assert.Equal(expected, InitOs.Sidecar.Admin.MachineFacts.Encryption(source, opened));
    }
}

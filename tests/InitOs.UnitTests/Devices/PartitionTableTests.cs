using InitOs.Init.Devices;
using InitOs.TestKit;

namespace InitOs.UnitTests.Devices;

public sealed class PartitionTableTests
{
    private static string Disk(TempDirectory dir)
    {
        var path = dir.File("disk.img");
        using var file = File.Create(path);
        file.SetLength(16L * 1024 * 1024);
        return path;
    }

    private static IReadOnlyList<PartitionEntry> Read(string path)
    {
        using var stream = File.OpenRead(path);
        return PartitionTable.Read(stream);
    }

    [Fact]
    public void Reads_gpt_partuuid_partlabel_and_type_as_sgdisk_wrote_them()
    {
        using var dir = new TempDirectory();
        var disk = Disk(dir);
        Tool.Run("sgdisk", "-n", "1:2048:+2M", "-t", "1:ef00", "-u", "1:0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9", "-c", "1:EFI system",
            "-n", "3:0:+4M", "-t", "3:4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "-u", "3:11112222-3333-4444-5555-666677778888", "-c", "3:root-ä", disk);
        var parts = Read(disk);
        Assert.Equal(2, parts.Count);
        Assert.Equal(new PartitionEntry(1, Guid.Parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9", "EFI system", 2048, 6143), parts[0]);
        Assert.Equal(3, parts[1].Number);
        Assert.Equal("11112222-3333-4444-5555-666677778888", parts[1].PartUuid);
        Assert.Equal("root-ä", parts[1].PartLabel);
        Assert.Equal(Guid.Parse("4f68bce3-e8cd-4db1-96e7-fbcaf984b709"), parts[1].TypeGuid);
        var sgdisk = Tool.Run("sgdisk", "-i", "3", disk);
        Assert.Contains("Partition unique GUID: 11112222-3333-4444-5555-666677778888", sgdisk, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"First sector: {parts[1].FirstLba} ", sgdisk, StringComparison.Ordinal);
        Assert.Contains($"Last sector: {parts[1].LastLba} ", sgdisk, StringComparison.Ordinal);
    }

    [Fact]
    public void Reads_mbr_partitions_with_the_kernels_partuuid()
    {
        using var dir = new TempDirectory();
        var disk = Disk(dir);
        Tool.Run("sh", "-c", $"printf 'label: dos\\nlabel-id: 0xdeadbeef\\nstart=2048, size=4096, type=83\\nstart=8192, size=8192, type=c\\n' | sfdisk -q {disk}");
        var parts = Read(disk);
        Assert.Equal(["deadbeef-01", "deadbeef-02"], parts.Select(p => p.PartUuid));
        Assert.Equal([2048L, 8192L], parts.Select(p => p.FirstLba));
        Assert.All(parts, p => Assert.Null(p.PartLabel));
    }

    [Fact]
    public void A_disk_without_a_table_has_no_partitions()
    {
        Assert.Empty(PartitionTable.Read(new MemoryStream(new byte[1 << 20])));
        Assert.Empty(PartitionTable.Read(new MemoryStream()));
    }
}

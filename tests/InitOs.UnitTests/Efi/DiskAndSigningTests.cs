using InitOs.ImageBuild.Disk;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Kernel;
using InitOs.Init.Devices;
using InitOs.TestKit;

namespace InitOs.UnitTests.Efi;

/// <summary>GPT images, key sets and signatures, checked with the Debian tools that read them (sgdisk, sbverify, mtools).</summary>
public sealed class DiskAndSigningTests : IDisposable
{
    private readonly TempDirectory _dir = new("initos-disk-test-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_gpt_image_reads_back_the_same_through_sgdisk_and_initos_own_reader()
    {
        var first = _dir.File("a.bin");
        var second = _dir.File("b.bin");
        File.WriteAllBytes(first, Enumerable.Repeat((byte)0xA1, 3000).ToArray());
        File.WriteAllBytes(second, Enumerable.Repeat((byte)0xB2, 5000).ToArray());
        var idA = Guid.Parse("11111111-2222-4333-8444-555555555555");
        var idB = Guid.Parse("66666666-7777-4888-9999-aaaaaaaaaaaa");
        var disk = _dir.File("disk.img");
        GptWriter.Write(disk, Guid.Parse("01234567-89ab-4cde-8f01-23456789abcd"),
        [
            new(GptPartition.EspType, idA, "ESP", first, 2 << 20),
            new(GptPartition.RootX64Type, idB, "root", second, 1 << 20),
        ]);

        Assert.DoesNotContain("Problem", Tool.Run("sgdisk", "-v", disk), StringComparison.Ordinal);
        Assert.Contains("Disk identifier (GUID): 01234567-89AB-4CDE-8F01-23456789ABCD", Tool.Run("sgdisk", "-p", disk), StringComparison.Ordinal);
        using var stream = File.OpenRead(disk);
        var entries = PartitionTable.Read(stream);
        Assert.Equal([(GptPartition.EspType, idA.ToString(), "ESP", 2048L, 6143L), (GptPartition.RootX64Type, idB.ToString(), "root", 6144L, 8191L)],
            entries.Select(e => (e.TypeGuid, e.PartUuid, e.PartLabel, e.FirstLba, e.LastLba)));
        var bytes = File.ReadAllBytes(disk);
        Assert.Equal(0xA1, bytes[2048 * 512]);
        Assert.Equal(0xB2, bytes[(6144 * 512) + 4999]);
    }

    [Fact]
    public void The_same_files_give_the_same_disk_bytes_whenever_they_are_written()
    {
        var uki = _dir.File("fake.efi");
        File.WriteAllBytes(uki, Enumerable.Range(0, 70000).Select(i => (byte)(i * 7)).ToArray());
        var first = _dir.File("first.img");
        var second = _dir.File("second.img");
        BootDisk.Write(new BootDisk.Layout(uki, null, null, false, null, null, 32L << 20), first);
        File.SetLastWriteTimeUtc(uki, DateTime.UtcNow.AddHours(1));
        BootDisk.Write(new BootDisk.Layout(uki, null, null, false, null, null, 32L << 20), second);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
    }

    [Fact]
    public void Generated_keys_are_private_to_the_owner_and_come_with_signature_lists_and_updates()
    {
        var set = KeyGenerator.Generate(_dir.File("keys"), "InitOS unit test");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(set.Directory));
        foreach (var name in KeySet.Names)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(set.Key(name)));
            Assert.Contains($"CN = InitOS unit test {name}", Tool.Run("openssl", "x509", "-noout", "-subject", "-in", set.Certificate(name)), StringComparison.Ordinal);
            Assert.True(new FileInfo(set.SignatureList(name)).Length > 0 && new FileInfo(set.Update(name)).Length > new FileInfo(set.SignatureList(name)).Length);
        }
        var e = Assert.Throws<KeyException>(() => KeyGenerator.Generate(set.Directory, "again"));
        Assert.Contains("is not empty: refusing to overwrite keys", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_uki_passes_sbverify_with_its_key_and_fails_with_another_and_the_esp_holds_it()
    {
        var own = KeyGenerator.Generate(_dir.File("own"), "InitOS unit test");
        var snakeoil = KeySet.Snakeoil(_dir.File("snakeoil"));
        var initrd = _dir.File("initrd");
        File.WriteAllBytes(initrd, new byte[4096]);
        var spec = new UkiSpec
        {
            Kernel = KernelFolder.Open(RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel")).Vmlinuz,
            Initrd = initrd,
            Cmdline = "quiet",
            OsRelease = "ID=initos\n",
        };
        var uki = _dir.File("uki.efi");
        var built = UkiBuilder.Build(spec, uki, own);
        Assert.Equal(own.SigningCertificate, built.SignedWith);
        Assert.Matches("^[0-9a-f]{64}$", built.Pcr11);
        PeSigner.Verify(own.SigningCertificate, uki);
        Assert.Throws<KeyException>(() => PeSigner.Verify(snakeoil.SigningCertificate, uki));
        Assert.False(File.Exists(uki + ".unsigned"), "the unsigned intermediate is removed");

        var disk = _dir.File("disk.img");
        BootDisk.Write(new BootDisk.Layout(uki, null, null, false, null, null, 32L << 20), disk);
        using var stream = File.OpenRead(disk);
        var esp = PartitionTable.Read(stream).Single();
        Assert.Equal(GptPartition.EspType, esp.TypeGuid);
        var copy = _dir.File("copied.efi");
        Tool.Run("mcopy", "-i", $"{disk}@@{esp.FirstLba * 512}", "::/EFI/BOOT/BOOTX64.EFI", copy);
        Assert.Equal(File.ReadAllBytes(uki), File.ReadAllBytes(copy));
    }
}

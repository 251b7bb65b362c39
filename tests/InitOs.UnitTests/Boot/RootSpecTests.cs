using InitOs.Init.Boot.Tasks;
using InitOs.Init.Devices;

namespace InitOs.UnitTests.Boot;

public sealed class RootSpecTests
{
    private static readonly BlockDevice[] Devices =
    [
        new("vda", "/dev/vda", 64L << 20, null, null, null),
        new("vda1", "/dev/vda1", 1L << 20, "vda", new FilesystemInfo("vfat", "ABCD-1234", "ESP"), new PartitionEntry(1, Guid.Empty, "11111111-2222-3333-4444-555555555555", "esp", 2048, 4095)),
        new("vda2", "/dev/vda2", 60L << 20, "vda", new FilesystemInfo("ext4", "3c1d5f0e-7a4b-4f6e-9d2a-1b8c0e5f7a91", "initos-root"), new PartitionEntry(2, Guid.Empty, "6a2c7e1b-0d4f-4c8a-b3e5-9f1d2c3b4a50", "os-root", 4096, 131071)),
    ];

    /// <summary>With a LUKS2 volume and its opened mapping.</summary>
    private static readonly BlockDevice[] WithCrypt =
    [
        .. Devices,
        new("vdb", "/dev/vdb", 64L << 20, null, new FilesystemInfo("crypto_LUKS", "79a5471a-7129-43c5-ae59-bc1af98ea249", "vault"), null),
        new("dm-0", "/dev/dm-0", 48L << 20, null, new FilesystemInfo("ext4", "0f0e0d0c-0b0a-4908-8706-050403020100", "data"), null) { MapperName = "vault" },
    ];

    [Theory]
    [InlineData("/dev/vda2", "vda2")]
    [InlineData("LABEL=initos-root", "vda2")]
    [InlineData("LABEL=ESP", "vda1")]
    [InlineData("UUID=3C1D5F0E-7A4B-4F6E-9D2A-1B8C0E5F7A91", "vda2")]
    [InlineData("UUID=ABCD-1234", "vda1")]
    [InlineData("PARTUUID=6a2c7e1b-0d4f-4c8a-b3e5-9f1d2c3b4a50", "vda2")]
    [InlineData("PARTLABEL=esp", "vda1")]
    [InlineData("/dev/disk/by-label/initos-root", "vda2")]
    [InlineData("/dev/disk/by-partuuid/11111111-2222-3333-4444-555555555555", "vda1")]
    public void Every_root_form_finds_its_device(string root, string expected) =>
        Assert.Equal(expected, RootSpec.Parse(root).Find(Devices)?.Name);

    [Theory]
    [InlineData("UUID=79a5471a-7129-43c5-ae59-bc1af98ea249", "vdb")]
    [InlineData("LABEL=vault", "vdb")]
    [InlineData("/dev/mapper/vault", "dm-0")]
    [InlineData("/dev/dm-0", "dm-0")]
    [InlineData("LABEL=data", "dm-0")]
    [InlineData("/dev/mapper/dm-0", null)]
    public void A_luks_volume_is_found_by_its_header_and_its_mapping_by_name_or_what_it_holds(string spec, string? expected) =>
        Assert.Equal(expected, RootSpec.Parse(spec).Find(WithCrypt)?.Name);

    [Theory]
    [InlineData("LABEL=Initos-Root")]
    [InlineData("PARTLABEL=nothing")]
    [InlineData("/dev/vdb")]
    public void Nothing_matches_when_the_device_is_absent(string root) =>
        Assert.Null(RootSpec.Parse(root).Find(Devices));

    [Theory]
    [InlineData("sda1")]
    [InlineData("LABEL=")]
    [InlineData("/dev/")]
    public void Malformed_specs_are_rejected(string root) =>
        Assert.Throws<FormatException>(() => RootSpec.Parse(root));

    [Fact]
    public void Not_found_message_lists_what_was_sought_and_seen()
    {
        var message = DeviceTasks.NotFound("root", RootSpec.Parse("LABEL=nope"), TimeSpan.FromSeconds(5), Devices);
        Assert.Equal("root device LABEL=nope not found after 5 s; block devices seen: vda (64 MiB), " +
            "vda1 (1 MiB vfat LABEL=ESP UUID=ABCD-1234 PARTUUID=11111111-2222-3333-4444-555555555555 PARTLABEL=esp), " +
            "vda2 (60 MiB ext4 LABEL=initos-root UUID=3c1d5f0e-7a4b-4f6e-9d2a-1b8c0e5f7a91 PARTUUID=6a2c7e1b-0d4f-4c8a-b3e5-9f1d2c3b4a50 PARTLABEL=os-root)", message);
    }
}

using InitOs.Init.Modules;
using InitOs.TestKit;

namespace InitOs.UnitTests.Modules;

public sealed class ModuleIndexTests
{
    private static ModuleIndex Synthetic(TempDirectory dir)
    {
        File.WriteAllText(dir.File("modules.dep"), """
            kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
            kernel/fs/jbd2/jbd2.ko:
            kernel/fs/mbcache.ko:
            kernel/lib/crc16.ko:
            kernel/crypto/crc32c_generic.ko:
            kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio_ring.ko:
            kernel/drivers/net/e1000e.ko:
            """);
        File.WriteAllText(dir.File("modules.alias"), """
            alias fs-ext4 ext4
            alias crypto-crc32c crc32c_generic
            alias virtio:d00000002v* virtio_blk
            alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
            alias pci:v00008086d0000[12]5[0-9A]*sv*sd*bc*sc*i* e1000e
            """);
        File.WriteAllText(dir.File("modules.builtin"), "kernel/drivers/block/loop.ko\n");
        File.WriteAllText(dir.File("modules.softdep"), "softdep ext4 pre: crypto-crc32c\n");
        return ModuleIndex.Load(dir.Path);
    }

    [Fact]
    public void Load_order_puts_dependencies_first_once()
    {
        using var dir = new TempDirectory();
        var index = Synthetic(dir);
        Assert.Equal(["virtio_ring", "virtio", "virtio_blk"], index.LoadOrder("virtio-blk"));
        Assert.Equal(["crc32c_generic", "jbd2", "mbcache", "crc16", "ext4", "virtio_ring", "virtio", "virtio_blk"], index.LoadOrder(["ext4", "virtio_blk", "ext4"]));
        Assert.Equal(["jbd2", "mbcache", "crc16", "ext4"], index.LoadOrder("ext4", includeSoft: false));
    }

    [Theory]
    [InlineData("fs-ext4", "ext4")]
    [InlineData("virtio:d00000002v00001AF4", "virtio_blk")]
    [InlineData("pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00", "e1000e")]
    [InlineData("pci:v00008086d00001529sv0sd0bc02sc00i00", "e1000e")]
    [InlineData("pci:v00008086d0000163Bsv0sd0bc02sc00i00", null)]
    [InlineData("virtio:d00000001v00001AF4", null)]
    public void Aliases_match_with_fnmatch_globs(string modalias, string? module)
    {
        using var dir = new TempDirectory();
        var matches = Synthetic(dir).MatchAlias(modalias);
        Assert.Equal(module is null ? [] : [module], matches);
    }

    [Fact]
    public void Builtin_and_unknown_modules_are_told_apart()
    {
        using var dir = new TempDirectory();
        var index = Synthetic(dir);
        Assert.True(index.IsBuiltin("loop"));
        Assert.False(index.Contains("loop"));
        var e = Assert.Throws<KeyNotFoundException>(() => index.LoadOrder("nosuchmod"));
        Assert.Contains("nosuchmod", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subset_round_trips()
    {
        using var dir = new TempDirectory();
        var index = Synthetic(dir);
        Directory.CreateDirectory(dir.File("subset"));
        index.WriteSubset(index.LoadOrder("ext4"), dir.File("subset"));
        var subset = ModuleIndex.Load(dir.File("subset"));
        Assert.Equal(index.LoadOrder("ext4"), subset.LoadOrder("ext4"));
        Assert.Equal(["ext4"], subset.MatchAlias("fs-ext4"));
        Assert.Empty(subset.MatchAlias("virtio:d00000002v00001AF4"));
        Assert.False(subset.Contains("virtio_blk"));
    }

    [Fact]
    public void The_debian_kernel_index_resolves_the_boot_modules()
    {
        var kernel = InitOs.ImageBuild.Kernel.KernelFolder.Open(RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel"));
        kernel.EnsureDepmod();
        var index = ModuleIndex.Load(kernel.ModuleDirectory);
        var order = index.LoadOrder("virtio_blk");
        Assert.Equal("virtio_blk", order[^1]);
        Assert.Contains("virtio_ring", order.Take(order.Count - 1));
        Assert.Equal(["ext4"], index.MatchAlias("fs-ext4"));
        Assert.Contains("virtio_blk", index.MatchAlias("virtio:d00000002v00001AF4"));
        Assert.Contains("virtio_pci", index.MatchAlias("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"));
        Assert.Contains("crc32c_generic", index.LoadOrder("ext4"));
    }
}

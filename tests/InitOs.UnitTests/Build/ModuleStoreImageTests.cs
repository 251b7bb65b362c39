using InitOs.ImageBuild.Initramfs;
using InitOs.TestKit;

namespace InitOs.UnitTests.Build;

/// <summary>The generic profile's module store, written by mksquashfs and read back by unsquashfs.</summary>
public sealed class ModuleStoreImageTests
{
    [Fact]
    public void The_store_holds_the_modules_given_and_is_the_same_bytes_with_source_date_epoch_set_or_not()
    {
        using var dir = new TempDirectory();
        var modules = Path.Combine(dir.Path, "modules");
        Directory.CreateDirectory(Path.Combine(modules, "kernel/drivers/scsi"));
        File.WriteAllText(Path.Combine(modules, "kernel/drivers/scsi/one.ko"), "one");
        File.WriteAllText(Path.Combine(modules, "kernel/drivers/scsi/two.ko"), "two");
        string[] wanted = ["kernel/drivers/scsi/one.ko"];

        // make exports SOURCE_DATE_EPOCH for every build; mksquashfs refuses it next to its own time options.
        var saved = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        byte[] withEpoch, without;
        try
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "0");
            withEpoch = File.ReadAllBytes(ModuleStoreImage.Write(modules, wanted, Work(dir, "a"), 1_700_000_000));
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", null);
            without = File.ReadAllBytes(ModuleStoreImage.Write(modules, wanted, Work(dir, "b"), 1_700_000_000));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", saved);
        }

        Assert.Equal(withEpoch, without);
        var listing = Tool.Run("unsquashfs", "-l", Path.Combine(dir.Path, "a", "modules.sqfs"));
        Assert.Contains("kernel/drivers/scsi/one.ko", listing);
        Assert.DoesNotContain("two.ko", listing);
    }

    private static string Work(TempDirectory dir, string name)
    {
        var work = Path.Combine(dir.Path, name);
        Directory.CreateDirectory(work);
        return work;
    }
}

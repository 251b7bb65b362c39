using InitOs.TestKit;

namespace InitOs.JailTests.Storage;

/// <summary>What a jail filling its disk looks like: dd from /dev/zero until the kernel refuses a write.</summary>
internal static class DiskFiller
{
    /// <summary>Returns dd's complaint (its stderr) and how many bytes the file got.</summary>
    public static (string Refusal, long Bytes) FillUntilRefused(string file)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Tool.Run("dd", "if=/dev/zero", $"of={file}", "bs=1M"));
        return (refused.Message, new FileInfo(file).Length);
    }
}

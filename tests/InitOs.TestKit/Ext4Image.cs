using System.Globalization;
using System.Text.RegularExpressions;

namespace InitOs.TestKit;

/// <summary>Changes to an ext4 image file made below the filesystem, as a hostile disk would hold them.</summary>
public static partial class Ext4Image
{
    /// <summary>Flips the lowest bit of one byte of a file's data, in place in the image (the file's metadata untouched).</summary>
    public static void FlipByte(string image, string path, long offset)
    {
        long blockSize = long.Parse(BlockSize().Match(Tool.Run("dumpe2fs", "-h", image)).Groups[1].Value, CultureInfo.InvariantCulture);
        var blocks = Tool.Run("debugfs", "-R", $"blocks {path}", image).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long block = long.Parse(blocks[(int)(offset / blockSize)], CultureInfo.InvariantCulture);
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        file.Position = block * blockSize + offset % blockSize;
        int value = file.ReadByte();
        file.Position--;
        file.WriteByte((byte)(value ^ 1));
    }

    [GeneratedRegex(@"(?m)^Block size:\s+(\d+)")]
    private static partial Regex BlockSize();
}

using System.Globalization;

namespace InitOs.Jails.Running;

/// <summary>
/// Host uid/gid ranges for unprivileged jails whose spec gives no mappings: 65536 ids each,
/// from 2^20 up, well above the ranges /etc/subuid hands to users. A range is taken by creating
/// /run/initos/idranges/START exclusively (it holds the jail's id), so no two jails ever share
/// one, and freed when the jail is deleted.
/// </summary>
public static class IdRanges
{
    public const uint Size = 65536;
    public const uint First = 1u << 20;
    public const int Count = 4096;
    public const string Directory = "/run/initos/idranges";

    public static uint Allocate(string jailId, string directory = Directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        for (int i = 0; i < Count; i++)
        {
            uint start = First + (uint)i * Size;
            try
            {
                using var file = new FileStream(Path.Combine(directory, start.ToString(CultureInfo.InvariantCulture)), FileMode.CreateNew, FileAccess.Write);
                file.Write(System.Text.Encoding.UTF8.GetBytes(jailId + "\n"));
                return start;
            }
            catch (IOException) when (File.Exists(Path.Combine(directory, start.ToString(CultureInfo.InvariantCulture))))
            {
                // Taken by another jail: try the next range.
            }
        }
        throw new JailException($"jail {jailId}: all {Count} id ranges under {directory} are taken");
    }

    public static void Release(uint start, string directory = Directory) =>
        File.Delete(Path.Combine(directory, start.ToString(CultureInfo.InvariantCulture)));
}

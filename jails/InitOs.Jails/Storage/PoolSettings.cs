using System.Globalization;
using InitOs.Sys;

namespace InitOs.Jails.Storage;

/// <summary>
/// A pool's size and quota, kept beside its slots in <c>pool.conf</c> ("slots=N", "quota=BYTES"),
/// so every command that takes or releases a slot opens the same pool.
/// </summary>
public static class PoolSettings
{
    public const string FileName = "pool.conf";

    /// <summary>Creates (or resizes) the pool: records the settings, then makes the slots.</summary>
    public static SubvolumePool Initialize(string directory, int slots, long quotaBytes)
    {
        var pool = new SubvolumePool(directory, slots, quotaBytes);
        var path = Path.Combine(pool.Directory, FileName);
        // Durable: a power cut leaves the old settings or the new, never an empty pool.conf.
        AtomicFile.WriteText(path, $"slots={slots}\nquota={quotaBytes}\n");
        pool.Ensure();
        return pool;
    }

    public static SubvolumePool Open(string directory)
    {
        var path = Path.Combine(Path.GetFullPath(directory), FileName);
        if (!File.Exists(path))
        {
            throw new StoragePoolException($"{directory} is not a jail pool (no {FileName}; create it with `initos jail pool init`)");
        }
        int? slots = null;
        long? quota = null;
        foreach (var (line, number) in File.ReadAllLines(path).Select((l, i) => (l.Trim(), i + 1)))
        {
            var parts = line.Split('=', 2);
            bool ok = parts.Length == 2 && parts[0] switch
            {
                "slots" => int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) && (slots = s) is not null,
                "quota" => long.TryParse(parts[1], CultureInfo.InvariantCulture, out var q) && (quota = q) is not null,
                _ => false,
            };
            if (!ok && line.Length > 0)
            {
                throw new StoragePoolException($"{path}:{number}: expected slots=N or quota=BYTES, found \"{line}\"");
            }
        }
        return new SubvolumePool(directory, slots ?? throw new StoragePoolException($"{path}: slots missing"),
            quota ?? throw new StoragePoolException($"{path}: quota missing"));
    }
}

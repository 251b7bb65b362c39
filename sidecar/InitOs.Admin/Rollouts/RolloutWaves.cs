using System.Globalization;

namespace InitOs.Admin.Rollouts;

/// <summary>
/// `--waves 1,10,50,100%`: how far each wave reaches, cumulatively, as shares in percent of the
/// hosts not pinned (the sign may be written once, at the end, as in the example, or on each),
/// in the hosts file's order; a share is rounded up, so 1% of 20 hosts is one canary host. The
/// reach must not fall from one wave to the next, and the last wave must be 100%.
/// </summary>
public static class RolloutWaves
{
    /// <summary>The number of hosts each wave reaches (cumulative), for <paramref name="hosts"/> hosts; waves that add no host are dropped.</summary>
    public static IReadOnlyList<int> Reach(string spec, int hosts)
    {
        var reach = new List<int>();
        foreach (var item in spec.Split(',', StringSplitOptions.TrimEntries))
        {
            var number = item.EndsWith('%') ? item[..^1] : item;
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int percent) || percent is <= 0 or > 100)
            {
                throw new ArgumentException($"--waves {spec}: \"{item}\" is not a share of the hosts from 1 to 100 (percent)");
            }
            int count = (int)Math.Ceiling(hosts * percent / 100.0);
            if (reach.Count > 0 && count < reach[^1])
            {
                throw new ArgumentException($"--waves {spec}: \"{item}\" reaches {count} hosts, fewer than the wave before it ({reach[^1]})");
            }
            if (reach.Count == 0 || count > reach[^1])
            {
                reach.Add(count);
            }
        }
        return reach.Count > 0 && reach[^1] == hosts ? reach
            : throw new ArgumentException($"--waves {spec}: the last wave reaches {(reach.Count == 0 ? 0 : reach[^1])} of {hosts} hosts; end with 100%");
    }
}

using System.Globalization;

namespace InitOs.Sidecar.Upgrades;

/// <summary>A release version: dot-separated decimal numbers ("1.0", "2.10.3"), compared number by number (2.10 > 2.9).</summary>
public sealed class UpgradeVersion
{
    private readonly long[] _parts;

    private UpgradeVersion(string text, long[] parts)
    {
        Text = text;
        _parts = parts;
    }

    public string Text { get; }

    /// <exception cref="FormatException">Not dot-separated decimal numbers; the message names <paramref name="what"/>.</exception>
    public static UpgradeVersion Parse(string text, string what)
    {
        var words = text.Split('.');
        var parts = new long[words.Length];
        for (int i = 0; i < words.Length; i++)
        {
            if (words[i].Length is 0 or > 9 || !words[i].All(char.IsAsciiDigit))
            {
                throw new FormatException($"{what} \"{text}\": expected dot-separated numbers such as 1.0 or 2.10.3");
            }
            parts[i] = long.Parse(words[i], CultureInfo.InvariantCulture);
        }
        return new UpgradeVersion(text, parts);
    }

    /// <summary>Below zero when this version is the older, zero when the same (1.0 = 1.0.0), above zero when newer.</summary>
    public int CompareTo(UpgradeVersion other)
    {
        for (int i = 0; i < Math.Max(_parts.Length, other._parts.Length); i++)
        {
            long mine = i < _parts.Length ? _parts[i] : 0, theirs = i < other._parts.Length ? other._parts[i] : 0;
            if (mine != theirs)
            {
                return mine.CompareTo(theirs);
            }
        }
        return 0;
    }

    public override string ToString() => Text;
}

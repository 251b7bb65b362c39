using System.Globalization;

namespace InitOs.Sidecar.Upgrades;

/// <summary>What a boot entry's file name says of it (Boot Loader Specification boot counting).</summary>
public enum EntryState
{
    /// <summary>No counter: blessed, a version that proved itself.</summary>
    Good,
    /// <summary>A counter with tries left: systemd-boot will boot it, counting down.</summary>
    Trial,
    /// <summary>A counter at 0 tries left: systemd-boot sorts it last, after every other entry.</summary>
    Bad,
}

/// <summary>
/// A UKI on the ESP as an upgrade slot: EFI/Linux/initos-VERSION[+LEFT[-DONE]].efi. systemd-boot
/// (v240 and later) renames the file before each boot of a counted entry, LEFT-1 and DONE+1, and
/// sorts entries with 0 left after all others; blessing drops the counter.
/// </summary>
public sealed record BootEntry(string Version, int? TriesLeft, int? TriesDone)
{
    public const string Prefix = "initos-";
    public const string Suffix = ".efi";

    public EntryState State => TriesLeft switch
    {
        null => EntryState.Good,
        0 => EntryState.Bad,
        _ => EntryState.Trial,
    };

    public string FileName => Prefix + Version + Counter + Suffix;

    private string Counter => TriesLeft is not { } left ? "" : TriesDone is { } done ? $"+{left}-{done}" : $"+{left}";

    /// <summary>The file name with no counter: what a blessing renames it to.</summary>
    public BootEntry Blessed => this with { TriesLeft = null, TriesDone = null };

    /// <summary>No tries left: systemd-boot passes over it (systemd-bless-boot's "bad").</summary>
    public BootEntry MarkedBad => this with { TriesLeft = 0, TriesDone = TriesDone ?? 0 };

    public static BootEntry New(string version, int tries) => new(version, tries, null);

    /// <summary>The entry a file name is, or null for a file that is not one of InitOS's slots.</summary>
    public static BootEntry? Parse(string fileName)
    {
        if (!fileName.StartsWith(Prefix, StringComparison.Ordinal) || !fileName.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var middle = fileName[Prefix.Length..^Suffix.Length];
        int plus = middle.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? middle : middle[..plus];
        if (!IsVersion(version))
        {
            return null;
        }
        if (plus < 0)
        {
            return new BootEntry(version, null, null);
        }
        var counter = middle[(plus + 1)..].Split('-');
        return counter switch
        {
            [var left] when Number(left) is { } l => new BootEntry(version, l, null),
            [var left, var done] when Number(left) is { } l && Number(done) is { } d => new BootEntry(version, l, d),
            _ => null,
        };
    }

    private static bool IsVersion(string text) =>
        text.Length > 0 && text.Split('.').All(p => p.Length is > 0 and <= 9 && p.All(char.IsAsciiDigit));

    private static int? Number(string text) =>
        text.Length is > 0 and <= 9 && text.All(char.IsAsciiDigit) ? int.Parse(text, CultureInfo.InvariantCulture) : null;
}

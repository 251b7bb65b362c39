using System.Globalization;

namespace InitOs.Admin.Rollouts;

/// <summary>
/// `--window "Sat 02:00-05:00"`: when a host may start its upgrade, in UTC. Days are optional
/// ("02:00-05:00" is every day) and may be a list or a range ("Mon-Fri", "Sat,Sun"); an end
/// before the start crosses midnight ("Fri 22:00-02:00" is Friday night into Saturday). A host
/// starts only inside the window; one that started finishes even if the window closes.
/// </summary>
public sealed class MaintenanceWindow
{
    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private readonly bool[] _days;
    private readonly TimeSpan _start;
    private readonly TimeSpan _length;

    private MaintenanceWindow(bool[] days, TimeSpan start, TimeSpan length, string text)
    {
        _days = days;
        _start = start;
        _length = length;
        Text = text;
    }

    public string Text { get; }

    public static MaintenanceWindow Parse(string text)
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2)
        {
            throw Bad(text, "expected [DAYS] HH:MM-HH:MM");
        }
        var days = parts.Length == 2 ? Days(parts[0], text) : Enumerable.Repeat(true, 7).ToArray();
        var times = parts[^1].Split('-');
        if (times.Length != 2)
        {
            throw Bad(text, "expected HH:MM-HH:MM");
        }
        var start = Time(times[0], text);
        var end = Time(times[1], text);
        var length = end > start ? end - start : end + TimeSpan.FromDays(1) - start;
        return new MaintenanceWindow(days, start, length, text.Trim());
    }

    /// <summary>Whether <paramref name="now"/> (UTC) is inside a window that opened on one of its days.</summary>
    public bool IsOpen(DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        // The window that may contain now opened today or, crossing midnight, yesterday.
        for (int back = 0; back <= 1; back++)
        {
            var day = utc.Date.AddDays(-back);
            var opens = day + _start;
            if (_days[(int)day.DayOfWeek] && utc >= opens && utc < opens + _length)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The next moment at or after <paramref name="now"/> when the window is open.</summary>
    public DateTimeOffset NextOpening(DateTimeOffset now)
    {
        if (IsOpen(now))
        {
            return now;
        }
        var utc = now.UtcDateTime;
        for (int ahead = 0; ahead <= 7; ahead++)
        {
            var day = utc.Date.AddDays(ahead);
            var opens = day + _start;
            if (_days[(int)day.DayOfWeek] && opens >= utc)
            {
                return new DateTimeOffset(opens, TimeSpan.Zero);
            }
        }
        throw new InvalidOperationException($"--window {Text} never opens");
    }

    private static bool[] Days(string spec, string text)
    {
        var days = new bool[7];
        foreach (var item in spec.Split(','))
        {
            var range = item.Split('-');
            int first = Day(range[0], text), last = range.Length == 2 ? Day(range[1], text) : first;
            if (range.Length > 2)
            {
                throw Bad(text, $"\"{item}\" is not a day or a range of days");
            }
            for (int d = first; ; d = (d + 1) % 7)
            {
                days[d] = true;
                if (d == last)
                {
                    break;
                }
            }
        }
        return days;
    }

    private static int Day(string name, string text)
    {
        int index = Array.FindIndex(DayNames, d => d.Equals(name, StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? index : throw Bad(text, $"\"{name}\" is not a day ({string.Join(", ", DayNames)})");
    }

    private static TimeSpan Time(string value, string text) =>
        TimeSpan.TryParseExact(value, @"hh\:mm", CultureInfo.InvariantCulture, out var time) && time < TimeSpan.FromDays(1)
            ? time : throw Bad(text, $"\"{value}\" is not a time HH:MM");

    private static ArgumentException Bad(string text, string why) => new($"--window \"{text}\": {why} (times in UTC, e.g. \"Sat 02:00-05:00\" or \"Mon-Fri 22:00-02:00\")");
}

using InitOs.Sidecar.Upgrades;

namespace InitOs.Os;

/// <summary>
/// Mode vm's sign that the guest reached its OS: the guest's InitOS logs "initos: exec INIT on
/// …" on its serial console just before it hands over to the OS's init. Seen in the console
/// relay, the number of the start it belongs to is written to <see cref="OsImageStore.GuestUpFile"/>,
/// where the sidecar's judge reads it. The guest could print the line without being up; it
/// can as well fail its probes: the marker only says that the guest got this far.
/// </summary>
internal sealed class GuestUpMarker(Func<int> start, string path = OsImageStore.GuestUpFile)
{
    private static readonly byte[] Marker = "] initos: exec "u8.ToArray();

    private int _matched;

    /// <summary>Console bytes as they pass; the marker may be split across chunks.</summary>
    public void Scan(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            // The marker's first byte does not recur in it, so a mismatch can only restart at it.
            _matched = b == Marker[_matched] ? _matched + 1 : b == Marker[0] ? 1 : 0;
            if (_matched == Marker.Length)
            {
                _matched = 0;
                Record();
            }
        }
    }

    /// <summary>A new start: the last start's mark no longer counts.</summary>
    public void Reset()
    {
        _matched = 0;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private void Record()
    {
        try
        {
            File.WriteAllText(path, $"{start()}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Init.Logging.BootLog.Instance.Warn($"os: {path}: {e.Message}; the judge will not see the guest up");
        }
    }

    /// <summary>The start whose guest reached its OS, from <paramref name="path"/>; null when none did.</summary>
    public static int? Read(string path = OsImageStore.GuestUpFile) =>
        File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int start) ? start : null;
}

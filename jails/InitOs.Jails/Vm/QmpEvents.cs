using System.Text.Json;

namespace InitOs.Jails.Vm;

/// <summary>
/// QEMU's QMP events, as a thread of PID 1 reads them. QMP is a peer like any other: a line
/// that is not JSON, an event of the wrong shape, a reader disposed under the thread, must
/// never end the thread with an exception, since an unhandled exception on any thread ends the
/// process, and when the process is PID 1 the kernel panics.
/// </summary>
public static class QmpEvents
{
    /// <summary>Reads lines until the peer goes or the reader is gone; each SHUTDOWN's end goes to <paramref name="ended"/>. Never throws.</summary>
    public static int Pump(TextReader events, Action<VmEnd> ended)
    {
        int skipped = 0;
        try
        {
            while (events.ReadLine() is { } line)
            {
                if (EndOf(line) is { } end)
                {
                    ended(end);
                }
                else if (!line.StartsWith('{'))
                {
                    skipped++;
                }
            }
        }
        catch (Exception)
        {
            // The socket closed (QEMU ending), the reader was disposed, or anything else: the
            // thread ends quietly; how the VM ended is then Unknown, which the caller handles.
        }
        return skipped;
    }

    /// <summary>{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-reset"}} → its end; any other line, garbage included → null.</summary>
    public static VmEnd? EndOf(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind != JsonValueKind.Object
                || !json.RootElement.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() != "SHUTDOWN")
            {
                return null;
            }
            var data = json.RootElement.TryGetProperty("data", out var d) ? d : default;
            var reason = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return reason switch
            {
                "guest-reset" => VmEnd.GuestReboot,
                "guest-shutdown" => VmEnd.GuestPowerOff,
                "guest-panic" => VmEnd.GuestPanic,
                _ => VmEnd.Host,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

using InitOs.Sys;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// dropbear logs only through syslog(3) in inetd mode, and nothing in the initramfs listens
/// at /dev/log: the door does, and passes each line to its own log (the kernel log, through
/// the supervisor) without the priority and timestamp syslog put in front.
/// </summary>
public static class SyslogRelay
{
    public const string DevLog = "/dev/log";

    /// <summary>Listens at <paramref name="path"/> when nothing else does, on a thread that never ends the process.</summary>
    public static void StartIfFree(string path, Action<string> log)
    {
        if (Path.Exists(path))
        {
            log($"ssh-door: {path} is there already; dropbear's log goes to whoever made it");
            return;
        }
        DatagramListener listener;
        try
        {
            listener = DatagramListener.Bind(path);
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException)
        {
            log($"ssh-door: cannot listen at {path} ({e.Message}); dropbear's own log is lost");
            return;
        }
        new Thread(() => Relay(listener, log)) { IsBackground = true, Name = "syslog-relay" }.Start();
    }

    private static void Relay(DatagramListener listener, Action<string> log)
    {
        while (true)
        {
            try
            {
                log(Message(listener.Receive()));
            }
            catch (Exception e)
            {
                // A relay that fails must not take the door with it; say so once and stop relaying.
                log($"ssh-door: the syslog relay at {listener.Path} stopped: {e.Message}");
                return;
            }
        }
    }

    /// <summary>"&lt;38&gt;Dec  5 07:10:41 dropbear[86]: text" → "dropbear[86]: text".</summary>
    public static string Message(string datagram)
    {
        var text = datagram.TrimEnd('\n', '\0').AsSpan();
        int close = text.IndexOf('>');
        if (text.Length > 0 && text[0] == '<' && close is > 1 and <= 4 && int.TryParse(text[1..close], out _))
        {
            text = text[(close + 1)..];
            // The RFC 3164 timestamp: "Mmm dd hh:mm:ss " (16 characters; the day padded with a space).
            if (text.Length >= 16 && text[3] == ' ' && text[6] == ' ' && text[9] == ':' && text[12] == ':' && text[15] == ' ')
            {
                text = text[16..];
            }
        }
        return text.ToString();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using InitOs.Sys;

namespace InitOs.Init.Logging;

public enum LogLevel
{
    Error = 3,
    Warning = 4,
    Info = 6,
}

/// <summary>
/// PID 1's log: every line goes to /dev/kmsg (so it lands in dmesg and survives
/// switch_root) and to every console the kernel writes to (a monitor and a serial line
/// alike; fd 1, /dev/console, is only the last of them). When the kernel already echoes a
/// kmsg line to the consoles (console_loglevel above its priority) the direct console
/// write is skipped, so no line shows twice.
/// </summary>
public sealed class BootLog
{
    private const string DevKmsgPolicy = "/proc/sys/kernel/printk_devkmsg";
    private int _kmsg = -1;
    private int _consoleLevel;
    private string? _savedDevKmsgPolicy;
    private ConsoleWriter[] _consoles = [ConsoleWriter.Existing("/dev/console", 1)];

    public static BootLog Instance { get; } = new();

    /// <summary>Seconds since boot (CLOCK_MONOTONIC starts at boot).</summary>
    public static double Uptime => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>Starts writing to /dev/kmsg; needs devtmpfs and procfs.</summary>
    public void AttachKmsg(string kmsgPath = "/dev/kmsg", string printkPath = "/proc/sys/kernel/printk")
    {
        try
        {
            _kmsg = Files.Open(kmsgPath, OpenFlags.WriteOnly | OpenFlags.CloseOnExec | OpenFlags.NoCtty);
            var first = File.ReadAllText(printkPath).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0];
            _consoleLevel = int.Parse(first, CultureInfo.InvariantCulture);
            LiftRateLimit();
        }
        catch (Exception e) when (e is SysException or IOException or FormatException or UnauthorizedAccessException)
        {
            Write(LogLevel.Warning, $"no kernel log ({e.Message}); logging to the console only");
        }
    }

    /// <summary>
    /// Writes from now on to each of <paramref name="consoles"/> instead of fd 1 alone; a console
    /// that cannot be opened is named and left out. None usable: fd 1 stays.
    /// </summary>
    /// <param name="lastOnStdout">fd 1 is /dev/console, whose terminal is the last console (PID 1's case): it is written there.</param>
    public void AttachConsoles(IReadOnlyList<ConsoleDevice> consoles, bool lastOnStdout = false)
    {
        var opened = new List<ConsoleWriter>();
        for (int i = 0; i < consoles.Count; i++)
        {
            var console = consoles[i];
            try
            {
                // The last is /dev/console's own terminal: fd 1 already, and spared by hang-ups.
                opened.Add(i == consoles.Count - 1 && lastOnStdout ? ConsoleWriter.Existing("/dev/console", 1) : ConsoleWriter.Open(console.DevicePath));
            }
            catch (SysException e)
            {
                Warn($"console {console.Name}: {e.Message}; the log does not go there");
            }
        }
        if (opened.Count > 0)
        {
            _consoles = [.. opened];
        }
        Info(consoles.Count == 0 ? "consoles: the kernel names none; the log goes to /dev/console" : $"consoles: {string.Join(", ", consoles)}");
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until the consoles have sent what was written to
    /// them: a terminal's output is queued, and a reboot or power-off drops the queue, and with
    /// it the last lines of a shutdown. Bounded, because a serial line with flow control and no
    /// one at the other end never drains.
    /// </summary>
    public void DrainConsoles(TimeSpan limit)
    {
        var consoles = _consoles;
        var drained = new Thread(() =>
        {
            foreach (var console in consoles)
            {
                Terminal.Drain(console.Fd);
            }
        }) { IsBackground = true, Name = "console-drain" };
        drained.Start();
        drained.Join(limit);
    }

    /// <summary>
    /// The kernel drops /dev/kmsg writes beyond ~10 per 5 s by default, which would lose most of
    /// a boot log; PID 1 turns that off while it boots and restores it before the hand-off.
    /// </summary>
    private void LiftRateLimit()
    {
        try
        {
            var saved = File.ReadAllText(DevKmsgPolicy).Trim();
            // The kernel wants the value and its newline in one write, nothing else (EINVAL otherwise).
            File.WriteAllText(DevKmsgPolicy, "on\n");
            _savedDevKmsgPolicy = saved;
        }
        catch (IOException e)
        {
            Warn($"kernel log rate limit stays on ({e.Message}); some boot lines may be missing from dmesg");
        }
    }

    /// <summary>Gives the real OS the kernel's kmsg policy as PID 1 found it.</summary>
    public void RestoreRateLimit()
    {
        if (_savedDevKmsgPolicy is not null && File.Exists(DevKmsgPolicy))
        {
            try
            {
                File.WriteAllText(DevKmsgPolicy, _savedDevKmsgPolicy + "\n");
            }
            catch (IOException)
            {
                // Fixed by the command line (printk.devkmsg=): nothing to restore.
            }
        }
    }

    // Characters per kmsg record: at most 3 UTF-8 bytes each, so a record stays under the kernel's ~1 KiB.
    private const int KmsgPiece = 300;

    private bool WriteKmsg(LogLevel level, string line)
    {
        bool written = true;
        int at = 0;
        do
        {
            int length = Math.Min(KmsgPiece, line.Length - at);
            if (length > 1 && at + length < line.Length && char.IsHighSurrogate(line[at + length - 1]))
            {
                length--; // a pair stays whole
            }
            written &= Files.WriteAll(_kmsg, Encoding.UTF8.GetBytes($"<{(int)level}>initos: {(at > 0 ? "… " : "")}{line.Substring(at, length)}\n"));
            at += length;
        }
        while (at < line.Length);
        return written;
    }

    public void Info(string message) => Write(LogLevel.Info, message);

    public void Warn(string message) => Write(LogLevel.Warning, "warning: " + message);

    public void Error(string message) => Write(LogLevel.Error, "error: " + message);

    private void Write(LogLevel level, string message)
    {
        foreach (var line in message.Split('\n'))
        {
            bool kernelEchoes = _kmsg >= 0 && _consoleLevel > (int)level;
            // The kernel takes a record of at most ~1 KiB (longer writes fail with EINVAL): a long line goes
            // in pieces, and a record the kernel refused is written to the console here, not lost.
            if (_kmsg >= 0 && !WriteKmsg(level, line))
            {
                kernelEchoes = false;
            }
            if (!kernelEchoes)
            {
                var bytes = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"[{Uptime,9:F3}] initos: {line}\n"));
                foreach (var console in _consoles)
                {
                    console.Write(bytes);
                }
            }
        }
    }
}

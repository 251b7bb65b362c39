using InitOs.Sys;

namespace InitOs.Jails.Os;

/// <summary>
/// The jailed OS's console: a pseudo-terminal whose slave is the jail's /dev/console and its
/// init's stdio. A thread of PID 1 copies what the OS writes to the host console and to a log
/// file under /run (its first megabyte of each boot, so a chatty OS cannot fill /run). PID 1
/// keeps the slave open too, so the OS's restarts never hang the terminal up. Output only: the
/// host console's input stays with InitOS (its emergency shell).
/// </summary>
public sealed class OsConsole
{
    private const long LogLimit = 1 << 20;
    private readonly int _master;

    private OsConsole(int master, string slavePath, string logPath)
    {
        _master = master;
        SlavePath = slavePath;
        LogPath = logPath;
        // Held for the life of PID 1 and never read: the master then never sees a hang-up.
        _ = Files.Open(slavePath, Files.ReadWrite | Files.NoCtty | Files.CloseOnExec);
    }

    public string SlavePath { get; }
    public string LogPath { get; }

    public static OsConsole Open(string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var (master, slave) = Terminal.OpenPty();
        var console = new OsConsole(master, slave, logPath);
        new Thread(console.Relay) { IsBackground = true, Name = "os-console" }.Start();
        return console;
    }

    private void Relay()
    {
        var buffer = new byte[4096];
        using var log = new FileStream(LogPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        int host = Files.Open("/dev/console", Files.WriteOnly | Files.NoCtty | Files.CloseOnExec);
        while (true)
        {
            int n;
            try
            {
                n = Files.Read(_master, buffer);
            }
            catch (SysException)
            {
                // EIO while no one holds the slave cannot happen (we hold it); anything else: try again shortly.
                Thread.Sleep(100);
                continue;
            }
            if (n <= 0)
            {
                Thread.Sleep(100);
                continue;
            }
            WriteQuietly(host, buffer.AsSpan(0, n));
            if (log.Length < LogLimit)
            {
                log.Write(buffer, 0, n);
                log.Flush();
            }
        }
    }

    /// <summary>A host console that went away only loses the copy there: the log file still gets the output.</summary>
    private static void WriteQuietly(int fd, ReadOnlySpan<byte> bytes) => _ = Files.WriteAll(fd, bytes);
}

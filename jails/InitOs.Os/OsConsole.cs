using InitOs.Sys;

namespace InitOs.Os;

/// <summary>
/// The jailed OS's console: a pseudo-terminal whose slave is the jail's /dev/console and its
/// init's stdio. A thread of PID 1 copies what the OS writes to the host console and to a log
/// file under /run (its first megabyte of each boot, so a chatty OS cannot fill /run). The host
/// console is every console the kernel writes to (a monitor and a serial line alike). PID 1
/// keeps the slave open too, so the OS's restarts never hang the terminal up. With
/// <see cref="RelayInput"/>, what is typed on any host console goes to the OS (the host consoles
/// then pass bytes raw: the OS's terminal echoes and edits lines).
/// </summary>
public sealed class OsConsole
{
    private const long LogLimit = 1 << 20;
    private readonly int _master;

    private readonly IReadOnlyList<Init.Logging.ConsoleDevice> _hosts;

    private OsConsole(int master, string slavePath, string logPath, IReadOnlyList<Init.Logging.ConsoleDevice> hosts)
    {
        _master = master;
        _hosts = hosts;
        SlavePath = slavePath;
        LogPath = logPath;
        // Held for the life of PID 1 and never read: the master then never sees a hang-up.
        _ = Files.Open(slavePath, OpenFlags.ReadWrite | OpenFlags.NoCtty | OpenFlags.CloseOnExec);
    }

    public string SlavePath { get; }
    public string LogPath { get; }

    /// <summary>Shown every chunk of the OS's console output as it is relayed (mode vm looks for its guest's marker).</summary>
    public Action<ReadOnlySpan<byte>>? Watch { get => Volatile.Read(ref _watch); set => Volatile.Write(ref _watch, value); }

    private Action<ReadOnlySpan<byte>>? _watch;

    /// <summary>The OS's console for a boot: output to the host console and the log; input from the host console unless a service of InitOS's own is interactive there.</summary>
    public static OsConsole OpenForOs(Init.Boot.BootContext context, string logPath)
    {
        var console = Open(logPath);
        var interactive = context.RequireSettings().Services.FirstOrDefault(s => s.Console);
        if (interactive is null)
        {
            console.RelayInput();
        }
        var hosts = console._hosts.Count == 0 ? "/dev/console" : string.Join(", ", console._hosts);
        context.Log.Info($"os: console {console.SlavePath}, relayed to {hosts} and {console.LogPath}; "
            + (interactive is null ? $"input from {hosts}" : $"no input from {hosts} (service {interactive.Name} reads the console)"));
        return console;
    }

    public static OsConsole Open(string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var (master, slave) = Terminal.OpenPty();
        var console = new OsConsole(master, slave, logPath, Init.Logging.ActiveConsoles.Read());
        new Thread(() => Guarded("os-console", console.Relay)) { IsBackground = true, Name = "os-console" }.Start();
        return console;
    }

    /// <summary>
    /// Copies the host console's input to the OS. Only while nothing of InitOS's own reads the
    /// console: the caller leaves it off when a [[service]] runs on the console.
    /// </summary>
    public void RelayInput()
    {
        var terminals = _hosts.Count == 0 ? ["/dev/console"] : _hosts.Select(h => h.TerminalPath).ToArray();
        foreach (var terminal in terminals)
        {
            new Thread(() => Guarded("os-console-input", () => RelayInput(terminal))) { IsBackground = true, Name = "os-console-input" }.Start();
        }
    }

    /// <summary>
    /// One host console's input, raw, to the OS. A terminal that was hung up (its file then reads
    /// as ended) is opened afresh; a console that is no terminal (a pipe, in tests) ends for good.
    /// </summary>
    private void RelayInput(string terminal)
    {
        while (true)
        {
            int host = Files.Open(terminal, OpenFlags.ReadOnly | OpenFlags.NoCtty | OpenFlags.CloseOnExec);
            bool isTerminal = true;
            try
            {
                Terminal.MakeInputRaw(host);
            }
            catch (SysException)
            {
                isTerminal = false; // bytes pass through as they come
            }
            try
            {
                Pump(host, 1024, bytes => WriteQuietly(_master, bytes), stopAtEnd: true);
            }
            finally
            {
                Files.Close(host);
            }
            if (!isTerminal)
            {
                return;
            }
            Thread.Sleep(1000);
        }
    }

    /// <summary>
    /// A thread of PID 1 never ends with an exception (that ends the process, and then the
    /// kernel): whatever the body meets is logged and the body runs again after a second.
    /// </summary>
    private static void Guarded(string name, Action body)
    {
        while (true)
        {
            try
            {
                body();
                return;
            }
            catch (Exception e)
            {
                Init.Logging.BootLog.Instance.Error($"{name}: {e.GetType().Name}: {e.Message}; running it again in 1 s");
                Thread.Sleep(1000);
            }
        }
    }

    private void Relay()
    {
        var paths = _hosts.Count == 0 ? ["/dev/console"] : _hosts.Select(h => h.DevicePath).ToArray();
        var hosts = paths.Select(OpenForWriting).OfType<Init.Logging.ConsoleWriter>().ToArray();
        using var log = new ConsoleLog(LogPath, LogLimit);
        Pump(_master, 4096, bytes =>
        {
            foreach (var host in hosts)
            {
                host.Write(bytes); // a console that went away only loses the copy there
            }
            log.Append(bytes);
            Watch?.Invoke(bytes);
        }, stopAtEnd: false);
    }

    /// <summary>
    /// Reads <paramref name="from"/> for ever and hands each chunk on. A failed read is retried
    /// shortly (the master cannot see a hang-up: PID 1 holds the slave). An end of file stops
    /// the host console's input (no input side: stop instead of spinning); on the master it
    /// only means no one wrote yet.
    /// </summary>
    private static void Pump(int from, int bufferSize, Action<ReadOnlySpan<byte>> onBytes, bool stopAtEnd)
    {
        var buffer = new byte[bufferSize];
        while (true)
        {
            int n;
            try
            {
                n = Files.Read(from, buffer);
            }
            catch (SysException)
            {
                Thread.Sleep(100);
                continue;
            }
            if (n <= 0)
            {
                if (stopAtEnd)
                {
                    return;
                }
                Thread.Sleep(100);
                continue;
            }
            onBytes(buffer.AsSpan(0, n));
        }
    }

    /// <summary>A host console that cannot be opened is left out (named in the log); the others and the log file still get the output.</summary>
    private static Init.Logging.ConsoleWriter? OpenForWriting(string path)
    {
        try
        {
            return Init.Logging.ConsoleWriter.Open(path);
        }
        catch (SysException e)
        {
            Init.Logging.BootLog.Instance.Warn($"os: console {path}: {e.Message}; the OS's output does not go there");
            return null;
        }
    }

    /// <summary>A host console that went away only loses the copy there: the log file still gets the output.</summary>
    private static void WriteQuietly(int fd, ReadOnlySpan<byte> bytes) => _ = Files.WriteAll(fd, bytes);
}

using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>
/// process.terminal: true. A pseudo-terminal made on the host: its slave is bound onto the jail's
/// /dev/console and is the program's stdio and controlling terminal; its master goes to the
/// caller's --console-socket (SCM_RIGHTS, as runc sends it) or, for `run` in the foreground
/// without one, stays here and is relayed to this command's stdio (input raw while it runs).
/// </summary>
internal sealed class JailTerminal : IDisposable
{
    private static readonly JailTerminal None = new(-1, null, null);
    private int _master;
    private readonly string? _slave;
    private readonly string? _socket;
    private Thread? _output;
    private byte[]? _savedInputMode;

    private JailTerminal(int master, string? slave, string? socket)
    {
        _master = master;
        _slave = slave;
        _socket = socket;
    }

    /// <summary>create and run --detach: this command ends at once, so the terminal must go to a socket.</summary>
    public static JailTerminal ForDetached(JailPlan plan, string? socket, string command)
    {
        if (!plan.Process.Terminal)
        {
            return None;
        }
        return socket is null
            ? throw new JailException($"process.terminal is true, but {command} returns at once and has no --console-socket to send the terminal to (use --console-socket)")
            : Open(socket);
    }

    /// <summary>exec --tty: detached it must go to a socket; else to the socket when there is one, or relayed.</summary>
    public static JailTerminal ForExec(bool tty, string? socket, bool detach)
    {
        if (!tty)
        {
            return None;
        }
        return detach && socket is null
            ? throw new JailException("exec --tty --detach returns at once and has no --console-socket to send the terminal to (use --console-socket)")
            : Open(socket);
    }

    /// <summary>The terminal's slave, opened for a program's stdio (the caller closes it once the program has it); -1 without a terminal.</summary>
    public int OpenSlave() => _slave is null ? -1 : Files.Open(_slave, OpenFlags.ReadWrite | OpenFlags.NoCtty | OpenFlags.CloseOnExec);

    /// <summary>run in the foreground: to the socket when there is one, else relayed by this command.</summary>
    public static JailTerminal ForForeground(JailPlan plan, string? socket) => plan.Process.Terminal ? Open(socket) : None;

    private static JailTerminal Open(string? socket)
    {
        var (master, slave) = Terminal.OpenPty();
        return new JailTerminal(master, slave, socket);
    }

    public JailPlan Attach(JailPlan plan) => _slave is null ? plan : plan with { Console = _slave };

    /// <summary>Once the jail holds its end: the master to the socket, or the relay started.</summary>
    public void Hand()
    {
        if (_master < 0)
        {
            return;
        }
        if (_socket is not null)
        {
            Terminal.SendOverSocket(_socket, _master, _slave!);
            Files.Close(_master);
            _master = -1;
            return;
        }
        Relay();
    }

    private void Relay()
    {
        Terminal.CopyWindowSize(0, _master);
        _savedInputMode = Terminal.SaveMode(0);
        if (_savedInputMode is not null)
        {
            Terminal.MakeInputRaw(0);
        }
        int master = _master;
        _output = new Thread(() => Copy(master, 1)) { IsBackground = true, Name = "terminal output" };
        _output.Start();
        // Blocks in read(0) for as long as input lasts; a background thread, so it never holds the exit.
        new Thread(() => Copy(0, master)) { IsBackground = true, Name = "terminal input" }.Start();
    }

    /// <summary>After the program ended: what it wrote last is out (the master reads EIO once every slave is closed).</summary>
    public void Finish()
    {
        _output?.Join(TimeSpan.FromSeconds(5));
        RestoreInput();
    }

    private void RestoreInput()
    {
        if (_savedInputMode is not null)
        {
            Terminal.RestoreMode(0, _savedInputMode);
            _savedInputMode = null;
        }
    }

    private static void Copy(int from, int to)
    {
        var buffer = new byte[16384];
        try
        {
            int n;
            while ((n = Files.Read(from, buffer)) > 0)
            {
                if (!Files.WriteAll(to, buffer.AsSpan(0, n)))
                {
                    return;
                }
            }
        }
        catch (SysException)
        {
            // EIO from a master whose slaves are all closed: the program's side is gone.
        }
    }

    public void Dispose()
    {
        RestoreInput();
        if (_master >= 0 && _output is null)
        {
            Files.Close(_master);
            _master = -1;
        }
    }
}

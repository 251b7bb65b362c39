using System.Net;
using InitOs.Sys;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// The admin door's listener: takes ssh connections on the admin interfaces only
/// (<see cref="InterfaceListener"/>, so from the jails' bridge the port is closed), bounds how
/// many sessions run at once and from one address, and hands each connection to dropbear in
/// inetd mode (-i) on its stdin and stdout, in a session of its own: stopping or restarting the
/// door (its service) leaves running sessions alone, as sshd does. Interfaces are looked for again every second, so
/// a card whose driver comes late, or a renamed one, is listened on when it appears.
/// </summary>
public sealed class SshDoor(int port, IReadOnlyList<string> named, IReadOnlyList<string> session, Action<string> log)
{
    /// <summary>Sessions at once, authenticated or not (dropbear's own pre-auth limit is 30).</summary>
    public const int MaxSessions = 16;
    /// <summary>Sessions at once from one address: one client cannot take every slot.</summary>
    public const int MaxSessionsPerPeer = 4;

    private static readonly TimeSpan Rescan = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, InterfaceListener> _listeners = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failed = new(StringComparer.Ordinal);
    private readonly Dictionary<int, IPAddress> _sessions = [];
    private DateTime _lastRefusalLogged;

    public int Sessions => _sessions.Count;

    public void Run()
    {
        log($"ssh-door: port {port}, {(named.Count > 0 ? "interfaces " + string.Join(' ', named) : "every network card")}; at most {MaxSessions} sessions, {MaxSessionsPerPeer} per address");
        while (true)
        {
            RunOnce();
        }
    }

    public void RunOnce()
    {
        Refresh();
        foreach (var ready in InterfaceListener.WaitForConnections([.. _listeners.Values], Rescan))
        {
            while (ready.Accept() is { } connection)
            {
                Admit(connection);
            }
        }
        ReapSessions();
    }

    /// <summary>Listens on admin interfaces that appeared; lets go of ones that went.</summary>
    private void Refresh()
    {
        var present = AdminInterfaces.Present(named);
        foreach (var gone in _listeners.Keys.Except(present).ToList())
        {
            _listeners.Remove(gone, out var listener);
            listener!.Dispose();
            log($"ssh-door: {gone} has gone; no longer listening there");
        }
        foreach (var name in present.Where(n => !_listeners.ContainsKey(n)))
        {
            try
            {
                _listeners[name] = InterfaceListener.Open(name, port);
                _failed.Remove(name);
                log($"ssh-door: listening on {name} port {port}");
            }
            catch (SysException e) when (_failed.Add(name))
            {
                log($"ssh-door: cannot listen on {name}: {e.Message}; trying again while it is there");
            }
            catch (SysException)
            {
                // Already said; tried again at the next scan.
            }
        }
    }

    private void Admit(AcceptedConnection connection)
    {
        try
        {
            int fromPeer = _sessions.Values.Count(p => p.Equals(connection.Peer));
            if (_sessions.Count >= MaxSessions || fromPeer >= MaxSessionsPerPeer)
            {
                LogRefusal($"ssh-door: refused {connection.Peer}: {_sessions.Count} sessions, {fromPeer} from it (at most {MaxSessions}, {MaxSessionsPerPeer} per address)");
                return;
            }
            var started = Processes.SpawnExact(session[0], session, Environ(), new SpawnOptions { StdioFd = connection.Fd, Flags = SpawnFlags.KeepStderr | SpawnFlags.NewSession });
            if (started.ExecError != Errno.None)
            {
                log($"ssh-door: {session[0]}: {started.ExecError}");
            }
            _sessions[started.Pid] = connection.Peer;
        }
        catch (SysException e)
        {
            log($"ssh-door: {connection.Peer}: {e.Message}");
        }
        finally
        {
            Files.Close(connection.Fd);
        }
    }

    private void ReapSessions()
    {
        while (Processes.Wait(noHang: true) is { } exit)
        {
            _sessions.Remove(exit.Pid);
        }
    }

    // A flood must not become a flood of log lines: one refusal a second is said.
    private void LogRefusal(string line)
    {
        if (DateTime.UtcNow - _lastRefusalLogged >= TimeSpan.FromSeconds(1))
        {
            _lastRefusalLogged = DateTime.UtcNow;
            log(line);
        }
    }

    private static string[] Environ() =>
        [.. Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}")];
}

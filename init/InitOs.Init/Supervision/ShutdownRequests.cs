using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// Turns shutdown signals into a request for the supervisor. A request that arrives while
/// PID 1 is still booting is kept and handed over as soon as the supervisor exists.
/// </summary>
public sealed class ShutdownRequests
{
    private readonly object _gate = new();
    private Supervisor? _supervisor;
    private (ShutdownKind Kind, string Reason)? _early;

    /// <summary>Called on the signal thread.</summary>
    public void Post(int signal)
    {
        if (OsRestartSignals.All.Contains(signal))
        {
            PostRestart(signal == OsRestartSignals.Kill);
            return;
        }
        if (!ShutdownSignals.BySignal.TryGetValue(signal, out var kind))
        {
            return;
        }
        var reason = $"{Signal.Name(signal)} received";
        BootLog.Instance.Info($"{reason}: {kind.ToString().ToLowerInvariant()} requested");
        lock (_gate)
        {
            if (_supervisor is null)
            {
                _early ??= (kind, reason);
                return;
            }
        }
        _supervisor.RequestShutdown(kind, reason);
    }

    /// <summary>A restart of the OS before the supervisor runs has nothing to restart: the OS's first start reads the pointer anyway.</summary>
    private void PostRestart(bool kill)
    {
        Supervisor? supervisor;
        lock (_gate)
        {
            supervisor = _supervisor;
        }
        var how = kill ? "kill and start again" : "stop and start again";
        if (supervisor is null)
        {
            BootLog.Instance.Info($"{OsRestartSignals.Service}: asked to {how} before it ever started; ignored");
            return;
        }
        supervisor.RequestRestart(OsRestartSignals.Service, kill, $"asked to {how} (SIGRTMIN+{(kill ? OsRestartSignals.Kill : OsRestartSignals.Stop) - Signal.RtMin})");
    }

    public void Attach(Supervisor supervisor)
    {
        lock (_gate)
        {
            _supervisor = supervisor;
            if (_early is { } early)
            {
                supervisor.RequestShutdown(early.Kind, early.Reason);
            }
        }
    }
}

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

using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// The thread that owns signals: SIGCHLD means "reap", anything else is handed to
/// <paramref name="onSignal"/>. Started once, before PID 1 spawns anything.
/// </summary>
public sealed class SignalLoop
{
    private readonly SignalPipe _pipe = new();
    private readonly Reaper _reaper;
    private readonly Action<int> _onSignal;

    public SignalLoop(Reaper reaper, IEnumerable<int> signals, Action<int> onSignal)
    {
        _reaper = reaper;
        _onSignal = onSignal;
        _pipe.Catch(Signal.Chld);
        foreach (var signal in signals)
        {
            _pipe.Catch(signal);
        }
    }

    /// <summary>Runs the loop on a thread of its own, for the life of the process.</summary>
    public void Start()
    {
        var thread = new Thread(() => Run(() => false)) { IsBackground = true, Name = "initos-signals" };
        thread.Start();
    }

    /// <summary>
    /// Runs the loop on the calling thread until <paramref name="done"/> says so (checked after
    /// each wake-up). The tini mode runs it on its main thread: the kernel prefers the main
    /// thread for a process-directed signal, so the handler and the loop share one thread.
    /// </summary>
    public void Run(Func<bool> done)
    {
        SignalPipe.UnblockCaughtOnThisThread();
        // Children that ended before the handler was installed sent SIGCHLD to nobody.
        _reaper.ReapAvailable();
        var arrived = new List<int>();
        while (!done())
        {
            try
            {
                _pipe.Wait(-1, arrived);
                foreach (var signal in arrived)
                {
                    if (signal == Signal.Chld)
                    {
                        _reaper.ReapAvailable();
                    }
                    else
                    {
                        _onSignal(signal);
                    }
                }
            }
            catch (Exception e)
            {
                // An exception escaping this loop would end PID 1, and the kernel with it.
                Logging.BootLog.Instance.Error($"signal loop: {e.Message}");
            }
        }
    }
}

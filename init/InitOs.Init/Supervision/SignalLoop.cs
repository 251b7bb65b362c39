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

    public void Start()
    {
        var thread = new Thread(Loop) { IsBackground = true, Name = "initos-signals" };
        thread.Start();
    }

    private void Loop()
    {
        SignalPipe.UnblockCaughtOnThisThread();
        // Children that ended before the handler was installed sent SIGCHLD to nobody.
        _reaper.ReapAvailable();
        var arrived = new List<int>();
        while (true)
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
                // An exception escaping this thread would end PID 1, and the kernel with it.
                Logging.BootLog.Instance.Error($"signal loop: {e.Message}");
            }
        }
    }
}

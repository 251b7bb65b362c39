using System.Diagnostics;
using System.Globalization;
using InitOs.Init.Logging;

namespace InitOs.Init.Modules;

/// <summary>
/// Coldplug on a thread of its own, so the boot looks for its root while the controllers that
/// do not hold it are still probed (an IDE channel's timeouts, a RAID adapter's spin-up), the
/// way dracut waits for the root device and not for udev to settle. What needs every driver
/// waits for the run (the network, PID 1 staying the host); switch_root stops it: no new load
/// starts, those under way finish, and the real OS's device manager loads the rest.
/// </summary>
public sealed class ColdplugRun
{
    private readonly Coldplug _coldplug;
    private readonly BootLog _log;
    private Thread? _thread;
    private volatile bool _stop;
    private readonly TaskCompletionSource _firstTierDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ColdplugRun(Coldplug coldplug, BootLog log)
    {
        _coldplug = coldplug;
        _log = log;
    }

    /// <summary>Starts the scan and the loads on a background thread.</summary>
    /// <param name="enough">Asked between tiers (see <see cref="Coldplug.Run"/>).</param>
    /// <param name="sysRoot">Where sysfs is (a test's fake one).</param>
    public static ColdplugRun Start(Coldplug coldplug, BootLog log, int rounds, Func<bool>? enough = null, string sysRoot = "/sys")
    {
        var run = new ColdplugRun(coldplug, log);
        // Asked first when the first tier is loaded: the mark the search for the root waits for.
        Func<bool> between = () =>
        {
            run._firstTierDone.TrySetResult();
            return enough?.Invoke() ?? false;
        };
        run._thread = new Thread(() => run.Run(rounds, between, sysRoot)) { IsBackground = true, Name = "coldplug" };
        run._thread.Start();
        return run;
    }

    public bool IsDone => _thread is not { IsAlive: true };

    /// <summary>
    /// Waits until the first tier (the config's drivers) is loaded: a driver's load probes every
    /// device it drives, so after it no disk of those controllers is still on its way, and a
    /// second disk with the root's label cannot arrive after the root was taken.
    /// </summary>
    public bool WaitFirstTier(TimeSpan timeout) => IsDone || _firstTierDone.Task.Wait(timeout);

    /// <summary>Waits until every driver the scan found is loaded; false when <paramref name="timeout"/> passed first.</summary>
    public bool Wait(TimeSpan timeout) => _thread?.Join(timeout) ?? true;

    /// <summary>No new load starts; waits for those under way (a module's init runs to its end) up to <paramref name="timeout"/>.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _stop = true;
        return Wait(timeout);
    }

    /// <summary>A thread of PID 1 must not end with an exception (that ends PID 1): whatever it meets is logged.</summary>
    private void Run(int rounds, Func<bool>? enough, string sysRoot)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var inserted = _coldplug.Run(sysRoot, rounds, () => _stop, enough);
            var skipped = _coldplug.Skipped;
            var left = skipped.Count == 0 ? "" : $"; left to the OS's device manager: {string.Join(" ", skipped)}";
            _log.Info(string.Create(CultureInfo.InvariantCulture, $"coldplug loaded {inserted.Count} modules: {string.Join(" ", inserted)} (in {clock.Elapsed.TotalSeconds:F2} s){left}"));
        }
        catch (Exception e)
        {
            _log.Error($"coldplug: {e.GetType().Name}: {e.Message}; the drivers it had not loaded yet are not loaded");
        }
        finally
        {
            _firstTierDone.TrySetResult(); // a run of one tier is asked nothing between tiers
        }
    }
}

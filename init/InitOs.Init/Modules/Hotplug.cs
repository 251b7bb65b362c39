using InitOs.Init.Logging;
using InitOs.Sys.Netlink;

namespace InitOs.Init.Modules;

/// <summary>
/// Drivers for devices that appear after coldplug looked: a USB keyboard enumerated a second
/// after its controller's driver loaded, a disk or NIC plugged in while PID 1 runs the OS in a
/// jail. A thread of PID 1 reads the kernel's device events (what udev and mdev read) and loads
/// the modules a new device's MODALIAS matches. Opened before coldplug's scan, so a device
/// appears either to the scan or as an event. Stopped before switch_root, when the real OS's
/// own device manager takes over.
/// </summary>
public sealed class Hotplug
{
    private readonly ModuleIndex _index;
    private readonly ModuleLoader _loader;
    private readonly BootLog _log;
    private readonly UeventSocket _socket;
    private volatile bool _stopped;

    private Hotplug(ModuleIndex index, ModuleLoader loader, BootLog log, UeventSocket socket)
    {
        _index = index;
        _loader = loader;
        _log = log;
        _socket = socket;
    }

    public static Hotplug Start(ModuleIndex index, ModuleLoader loader, BootLog log)
    {
        var hotplug = new Hotplug(index, loader, log, UeventSocket.Open());
        new Thread(hotplug.Run) { IsBackground = true, Name = "hotplug" }.Start();
        return hotplug;
    }

    /// <summary>No more loads (the socket closes with the process at the hand-off).</summary>
    public void Stop() => _stopped = true;

    /// <summary>A thread of PID 1 must not end with an exception (that ends PID 1): whatever it meets is logged and it goes on.</summary>
    private void Run()
    {
        while (!_stopped)
        {
            try
            {
                var fields = _socket.Receive();
                if (fields is null)
                {
                    return;
                }
                if (!_stopped && fields.GetValueOrDefault("ACTION") == "add" && fields.GetValueOrDefault("MODALIAS") is { Length: > 0 } alias)
                {
                    LoadFor(alias);
                }
            }
            catch (Exception e)
            {
                _log.Error($"hotplug: {e.GetType().Name}: {e.Message}; going on in 1 s");
                Thread.Sleep(1000);
            }
        }
    }

    /// <summary>The modules <paramref name="alias"/> matches, loaded; a driver that refuses the device is named, as in coldplug.</summary>
    public IReadOnlyList<string> LoadFor(string alias)
    {
        var inserted = new List<string>();
        foreach (var module in _index.MatchAlias(alias).Where(m => !_loader.IsLoaded(m)))
        {
            if (_stopped)
            {
                break;
            }
            try
            {
                inserted.AddRange(_loader.Load(module));
            }
            catch (Exception e) when (e is ModuleException or IOException or Sys.SysException)
            {
                _log.Warn($"hotplug {alias}: {e.Message}");
            }
        }
        if (inserted.Count > 0)
        {
            _log.Info($"hotplug loaded {inserted.Count} modules: {string.Join(" ", inserted)} (for {alias})");
        }
        return inserted;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using InitOs.Init.Config;
using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// PID 1's service manager: starts the configured services in order, restarts them with
/// backoff, brakes crash loops, and on a shutdown request stops them (TERM, grace, KILL)
/// in reverse order. All state changes happen on the thread that calls
/// <see cref="RunUntilShutdown"/>; other threads only post work to it.
/// </summary>
public sealed class Supervisor
{
    private sealed class Service
    {
        public required ServiceSpec Spec { get; init; }
        public required ServiceStatus Status { get; init; }
        public Backoff Backoff { get; } = new();
        public TimeSpan StartedAt { get; set; }
        public TimeSpan? NextStart { get; set; }
        /// <summary>Stopped on request, to be started again at once: its end is neither a crash nor the host's cue.</summary>
        public bool RestartRequested { get; set; }
    }

    private readonly List<Service> _services;
    private readonly Reaper _reaper;
    private readonly BootLog _log;
    private readonly BlockingCollection<Action> _inbox = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _statusPath;
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private ShutdownKind? _shutdown;
    private long _publishedOrphans = -1;
    private string _shutdownReason = "";

    public Supervisor(IReadOnlyList<ServiceSpec> services, Reaper reaper, BootLog log, string statusPath = StatusFile.DefaultPath)
    {
        _services = services.Select(c => new Service { Spec = c, Status = new ServiceStatus { Name = c.Name } }).ToList();
        _reaper = reaper;
        _log = log;
        _statusPath = statusPath;
    }

    public string ShutdownReason => _shutdownReason;

    /// <summary>Thread-safe: asks the supervisor thread to shut down.</summary>
    public void RequestShutdown(ShutdownKind kind, string reason) => _inbox.Add(() =>
    {
        _shutdown ??= kind;
        _shutdownReason = reason;
    });

    /// <summary>
    /// Thread-safe: stops a service (its stop request or signal, the grace, SIGKILL; or SIGKILL
    /// at once) and starts it again right away, without backoff and without what its end would
    /// otherwise make the host do.
    /// </summary>
    public void RequestRestart(string name, bool kill, string reason) => _inbox.Add(() =>
    {
        var service = _services.FirstOrDefault(s => s.Spec.Name == name);
        if (service is null || _shutdown is not null)
        {
            _log.Warn($"service {name}: {reason}; {(service is null ? "no such service" : "shutting down")}");
            return;
        }
        _log.Info($"service {name}: {reason}");
        service.RestartRequested = true;
        if (service.Status.Pid <= 0)
        {
            service.RestartRequested = false;
            service.NextStart = Now;
            return;
        }
        if (kill)
        {
            Processes.Signal(service.Spec.SignalGroup ? -service.Status.Pid : service.Status.Pid, Signal.Kill);
            return;
        }
        Stop(service);
    });

    /// <summary>Runs services until a shutdown is requested, stops them, and returns the request.</summary>
    public ShutdownKind RunUntilShutdown()
    {
        // Published before anything starts: the status file's space is reserved while /run has room.
        Publish();
        foreach (var service in _services)
        {
            Start(service);
        }
        Publish();
        while (_shutdown is null)
        {
            try
            {
                if (_inbox.TryTake(out var work, TimeUntilNextStart()))
                {
                    work();
                }
                StartDue();
                if (_reaper.OrphansReaped != _publishedOrphans)
                {
                    Publish();
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Supervision is PID 1's main loop: whatever one step meets, the loop goes on.
                _log.Error($"supervisor: {e.GetType().Name}: {e.Message}");
            }
        }
        StopAll();
        return _shutdown.Value;
    }

    private TimeSpan Now => _clock.Elapsed;

    private TimeSpan TimeUntilNextStart()
    {
        var next = _services.Where(s => s.NextStart is not null).Select(s => s.NextStart!.Value).DefaultIfEmpty(TimeSpan.MaxValue).Min();
        // Wake at least every tick so the published orphan count stays current.
        var wait = next == TimeSpan.MaxValue ? Tick : next - Now;
        return wait > Tick ? Tick : wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    private void StartDue()
    {
        foreach (var service in _services.Where(s => s.NextStart is { } at && at <= Now))
        {
            service.NextStart = null;
            Start(service);
            Publish();
        }
    }

    private void Start(Service service)
    {
        var config = service.Spec;
        service.Status.Starts++;
        service.StartedAt = Now;
        service.Backoff.Started(Now);
        try
        {
            var result = default(SpawnResult);
            int pid = _reaper.Start(() => config.Start is { } start ? start() : (result = Launch(config)).Pid, exit => _inbox.Add(() => Exited(service, exit)));
            if (result.ExecError != Errno.None)
            {
                // The child already exited 126/127; its exit still arrives through the reaper.
                _log.Error($"service {config.Name}: cannot run {config.Command[0]}: {SysException.Describe(result.ExecError)}");
                service.Status.State = ServiceState.Failed;
            }
            else
            {
                service.Status.State = ServiceState.Running;
                _log.Info($"service {config.Name}: started, pid {pid}");
            }
            service.Status.Pid = pid;
            service.Status.StartedAtUptime = BootLog.Uptime;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A start that fails (no console to open, a jail that cannot be made) is retried like a crash.
            var why = e is SysException or IOException ? e.Message : $"{e.GetType().Name}: {e.Message} (at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()})";
            _log.Error($"service {config.Name}: {why}");
            service.Status.LastExit = "start failed: " + why;
            Schedule(service, "start failed");
        }
    }

    private static SpawnResult Launch(ServiceSpec config)
    {
        int console = Files.Open(config.Console ? ConsoleTty() : "/dev/console", OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        try
        {
            var flags = SpawnFlags.NewSession | (config.Console ? SpawnFlags.Foreground : SpawnFlags.None);
            string[] env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux", $"INITOS_SERVICE={config.Name}"];
            return Processes.SpawnExact(config.Command[0], config.Command, env, new SpawnOptions { Flags = flags, StdioFd = console });
        }
        finally
        {
            Files.Close(console);
        }
    }

    /// <summary>/dev/console cannot be a controlling terminal; the tty behind it (ttyS0, tty1) can.</summary>
    private static string ConsoleTty() => ActiveConsoles.Preferred()?.TerminalPath ?? "/dev/console";

    private void Exited(Service service, ChildExit exit)
    {
        service.Status.LastExit = exit.ToString();
        service.Status.Pid = 0;
        AfterExit(service, exit);
        if (_shutdown is null && service.RestartRequested)
        {
            service.RestartRequested = false;
            service.Status.State = ServiceState.Waiting;
            service.NextStart = Now;
            _log.Info($"service {service.Spec.Name}: {exit}; started again as asked");
            Publish();
            return;
        }
        if (_shutdown is null && service.Spec.HostFollows?.Invoke(exit) is { } kind)
        {
            service.Status.State = ServiceState.Stopped;
            _log.Info($"service {service.Spec.Name}: {exit}; the host follows: {kind.ToString().ToLowerInvariant()}");
            _shutdown = kind;
            _shutdownReason = $"{service.Spec.Name} ended ({exit})";
            Publish();
            return;
        }
        bool failed = !exit.Exited || exit.ExitCode != 0;
        var restart = service.Spec.Restart switch
        {
            RestartPolicy.Always => true,
            RestartPolicy.OnFailure => failed,
            _ => false,
        };
        if (_shutdown is not null || !restart)
        {
            service.Status.State = service.Status.State == ServiceState.Failed ? ServiceState.Failed : ServiceState.Stopped;
            _log.Info($"service {service.Spec.Name}: {exit}; not restarted");
        }
        else
        {
            Schedule(service, exit.ToString());
        }
        Publish();
    }

    private void AfterExit(Service service, ChildExit exit)
    {
        try
        {
            service.Spec.AfterExit?.Invoke(exit);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.Error($"service {service.Spec.Name}: cleaning up after it: {e.Message}");
        }
    }

    private void Schedule(Service service, string why)
    {
        var (delay, crashLoop) = service.Backoff.AfterExit(service.StartedAt, Now);
        service.NextStart = Now + delay;
        service.Status.State = crashLoop ? ServiceState.CrashLoop : ServiceState.Waiting;
        if (crashLoop)
        {
            _log.Warn($"service {service.Spec.Name}: crash loop ({Backoff.LoopStarts} starts within {Backoff.LoopWindow.TotalSeconds:F0} s, last {why}); paused for {delay.TotalSeconds:F0} s");
        }
        else
        {
            _log.Info($"service {service.Spec.Name}: {why}; restart in {delay.TotalMilliseconds:F0} ms");
        }
    }

    /// <summary>Reverse order: TERM to each service's process group, its grace, then KILL.</summary>
    private void StopAll()
    {
        foreach (var service in Enumerable.Reverse(_services))
        {
            service.NextStart = null;
            if (service.Status.Pid > 0)
            {
                Stop(service);
            }
            service.Status.State = ServiceState.Stopped;
        }
        Publish();
    }

    private void Stop(Service service)
    {
        int pid = service.Status.Pid;
        var grace = TimeSpan.FromSeconds(service.Spec.StopGraceSeconds);
        int target = service.Spec.SignalGroup ? -pid : pid;
        var asked = AskToStop(service.Spec, target);
        if (service.Spec.Console)
        {
            // An interactive shell ignores SIGTERM; a hang-up is what ends it, as when a terminal closes.
            Processes.Signal(-pid, Signal.Hup);
        }
        Processes.Signal(target, Signal.Cont);
        if (WaitForExit(service, grace))
        {
            _log.Info($"service {service.Spec.Name}: stopped");
            return;
        }
        Processes.Signal(target, Signal.Kill);
        _log.Warn($"service {service.Spec.Name}: still running {grace.TotalSeconds:F0} s after {asked}; killed");
        WaitForExit(service, TimeSpan.FromSeconds(5));
    }

    /// <summary>The service's own stop request, or its stop signal; returns what was done, for the log.</summary>
    private string AskToStop(ServiceSpec config, int target)
    {
        if (config.StopRequest is { } request)
        {
            try
            {
                request.Ask();
                _log.Info($"service {config.Name}: {request.Name}");
                return request.Name;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _log.Warn($"service {config.Name}: {request.Name} failed ({e.Message}); sending {Signal.Name(config.StopSignal)}");
            }
        }
        Processes.Signal(target, config.StopSignal);
        return Signal.Name(config.StopSignal);
    }

    private bool WaitForExit(Service service, TimeSpan limit)
    {
        var deadline = Now + limit;
        while (service.Status.Pid > 0 && Now < deadline)
        {
            if (_inbox.TryTake(out var work, deadline - Now))
            {
                work();
            }
        }
        return service.Status.Pid == 0;
    }

    private void Publish()
    {
        try
        {
            _publishedOrphans = _reaper.OrphansReaped;
            StatusFile.Write(_services.Select(s => s.Status), _publishedOrphans, _statusPath);
        }
        catch (IOException e)
        {
            _log.Warn($"cannot write {_statusPath}: {e.Message}");
        }
    }
}

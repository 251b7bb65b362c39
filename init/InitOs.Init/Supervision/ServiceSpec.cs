using InitOs.Init.Config;
using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// What PID 1 runs and keeps alive: a [[service]] of the config (<see cref="From"/>), or one
/// InitOS makes itself (the sidecar's sshd, the jailed OS, the VM), with the hooks those need.
/// The config stays data; the behaviour lives here.
/// </summary>
public sealed record ServiceSpec
{
    public required string Name { get; init; }
    /// <summary>argv; the first word is an absolute path.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
    /// <summary>Interactive on the console: its own session with the console as controlling terminal.</summary>
    public bool Console { get; init; }
    public RestartPolicy Restart { get; init; } = RestartPolicy.Always;
    /// <summary>How long the service gets between the stop request and SIGKILL.</summary>
    public int StopGraceSeconds { get; init; } = 5;
    /// <summary>Starts the service another way than exec (a jail): returns its pid, a child of PID 1.</summary>
    public Func<int>? Start { get; init; }
    /// <summary>Called after every exit, before any restart: frees what that run held.</summary>
    public Action<ChildExit>? AfterExit { get; init; }
    /// <summary>An exit that the host follows (the jailed OS powered off): that shutdown; null: the restart policy applies.</summary>
    public Func<ChildExit, ShutdownKind?>? HostFollows { get; init; }
    public int StopSignal { get; init; } = Signal.Term;
    /// <summary>Asks the service to stop another way than a signal (a VM's ACPI power button); named for the logs.</summary>
    public (string Name, Action Ask)? StopRequest { get; init; }
    /// <summary>Stop signals go to the process group (a service leads one); a jail's init gets them itself.</summary>
    public bool SignalGroup { get; init; } = true;

    public static ServiceSpec From(ServiceConfig config) => new()
    {
        Name = config.Name,
        Command = config.Command,
        Console = config.Console,
        Restart = config.Restart,
        StopGraceSeconds = config.StopGraceSeconds,
    };
}

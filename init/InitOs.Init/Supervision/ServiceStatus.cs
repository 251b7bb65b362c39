namespace InitOs.Init.Supervision;

public enum ServiceState
{
    Running,
    Waiting,       // backing off before the next start
    CrashLoop,     // too many starts in a short time: paused, and reported
    Stopped,       // ended and not to be restarted (policy), or stopped for shutdown
    Failed,        // could not be started at all (exec failed)
}

/// <summary>What `initos services` shows for one service.</summary>
public sealed class ServiceStatus
{
    public required string Name { get; init; }
    public ServiceState State { get; set; } = ServiceState.Waiting;
    public int Pid { get; set; }
    public int Starts { get; set; }
    public string LastExit { get; set; } = "";
    public double StartedAtUptime { get; set; }
}

using InitOs.Sys;

namespace InitOs.Init.Supervision;

/// <summary>
/// Signals to PID 1 that start the jailed OS again (service "os"), for the sidecar once it has
/// staged or rolled back the OS's image: the OS's next start takes the image the pointer names.
/// Neither is a shutdown of the host, whatever [os] says the host does when the OS stops.
/// </summary>
public static class OsRestartSignals
{
    public const string Service = "os";

    /// <summary>Stop the OS as a host shutdown would (its stop signal, its grace, then SIGKILL), then start it.</summary>
    public const int Stop = Signal.RtMin + 13;

    /// <summary>Kill the OS (a rollback: the version is bad, its shutdown is not waited for), then start it at once.</summary>
    public const int Kill = Signal.RtMin + 14;

    public static readonly int[] All = [Stop, Kill];
}

namespace InitOs.Init.Boot;

/// <summary>One step of a phase: a name for the log and the work, which reads and writes the context.</summary>
public sealed record BootTask(string Name, Action<BootContext> Run);

/// <summary>
/// A named, ordered group of tasks; the unit of timing, breaking and failure handling.
/// <paramref name="When"/> (checked when the phase's turn comes) skips it for modes that do not need it.
/// </summary>
public sealed record Phase(string Name, IReadOnlyList<BootTask> Tasks, Func<BootContext, bool>? When = null);

/// <summary>A phase's measured run, one row of the boot timing table.</summary>
public sealed record PhaseTiming(string Name, double StartUptime, TimeSpan Duration);

/// <summary>A boot step that failed for a reason the log should state as is.</summary>
public sealed class BootException : Exception
{
    public BootException() { }
    public BootException(string message) : base(message) { }
    public BootException(string message, Exception inner) : base(message, inner) { }
}

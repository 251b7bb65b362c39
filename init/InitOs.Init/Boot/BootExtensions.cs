namespace InitOs.Init.Boot;

/// <summary>
/// What the libraries above PID 1 add to the boot (the box composes them): the sidecar's phase
/// and the task that starts it before switch_root, and the OS modes' phases. PID 1's library
/// knows their places in the sequence, not their code.
/// </summary>
public sealed record BootExtensions
{
    /// <summary>Phase "sidecar", between data and devices: readies the admin door when InitOS stays PID 1.</summary>
    public Phase? Sidecar { get; init; }
    /// <summary>Phase switch-root's task "start-sidecar": the admin door that outlives the hand-off.</summary>
    public BootTask? StartSidecarBeforeHandoff { get; init; }
    /// <summary>Phase "upgrade", after the sidecar's: mounts the ESP and tells a trial boot of a new version.</summary>
    public Phase? Upgrade { get; init; }
    /// <summary>Phase "os": the jail modes' OS.</summary>
    public Phase? Os { get; init; }
    /// <summary>Phase "vm": mode vm's OS.</summary>
    public Phase? Vm { get; init; }
}

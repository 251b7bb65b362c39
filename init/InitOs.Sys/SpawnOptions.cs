namespace InitOs.Sys;

[Flags]
public enum SpawnFlags
{
    None = 0,
    NewSession = 1,
    NewProcessGroup = 2,
    Foreground = 4,
    /// <summary>With <see cref="SpawnOptions.StdioFd"/>: that fd on 0 and 1 only; 2 stays this process's.</summary>
    KeepStderr = 8,
    /// <summary>Forked twice, so the child is nobody's child here: the nearest subreaper (tini, PID 1) reaps it.</summary>
    Detached = 16,
    /// <summary>unshare(CLONE_NEWNS) before exec (a failure is reported as <see cref="SpawnResult.ExecError"/>, exit 125).</summary>
    NewMountNamespace = 32,
}

/// <summary>How <see cref="Processes.SpawnExact"/> sets up the child before exec.</summary>
public sealed record SpawnOptions
{
    public SpawnFlags Flags { get; init; }
    /// <summary>Signal the child gets when this process dies (prctl PR_SET_PDEATHSIG); 0 for none.</summary>
    public int DeathSignal { get; init; }
    /// <summary>fd to put on 0, 1 and 2 (0 and 1 with <see cref="SpawnFlags.KeepStderr"/>) in the child; -1 keeps this process's.</summary>
    public int StdioFd { get; init; } = -1;
    /// <summary>Look the program up in PATH like execvp.</summary>
    public bool SearchPath { get; init; }
}

/// <summary>A started child; <see cref="ExecError"/> is not None when exec failed (the child exited 126/127).</summary>
public readonly record struct SpawnResult(int Pid, Errno ExecError);

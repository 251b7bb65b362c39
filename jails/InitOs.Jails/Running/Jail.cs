using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// One jail and its lifecycle: made from a plan (<see cref="Create"/>), found again by its ID
/// (<see cref="Open"/>), started, signalled, entered and deleted, each verb guarded by
/// <see cref="JailLifecycle"/>. It owns what it holds on the host (pool slot, network, id range,
/// cgroup, start fifo, state directory) and gives all of it back in one place, <see cref="Release"/>.
/// </summary>
public sealed class Jail
{
    private JailState _state;

    private Jail(JailState state) => _state = state;

    public string Id => _state.Id;

    public int Pid => _state.Pid;

    /// <summary>The status now: a jail whose init has ended is stopped, whatever its record said.</summary>
    public JailStatus Status => Refresh().Status;

    public JailState State => Refresh();

    /// <summary>
    /// Builds the jail from its plan. <paramref name="waitForStart"/>: created, its program waiting for
    /// <see cref="Start"/>; else running. <paramref name="foreground"/>: it dies with this process.
    /// A failure gives back whatever the plan held, its pool slot included.
    /// </summary>
    public static Jail Create(JailPlan plan, bool waitForStart, bool foreground, string stateRoot = JailState.Root) =>
        new(JailLauncher.Launch(plan, waitForStart, foreground, stateRoot));

    /// <summary>The jail of <paramref name="id"/> (a name, never a path), from its record under the state root.</summary>
    public static Jail Open(string id, string stateRoot = JailState.Root)
    {
        JailIds.Check(id);
        return new Jail(JailState.Load(id, stateRoot) ?? throw new JailException($"jail {id} does not exist (no {JailState.DirectoryOf(id, stateRoot)}/state.json)"));
    }

    /// <summary>Every jail with a record, in ID order; a damaged record is skipped.</summary>
    public static IEnumerable<Jail> All(string stateRoot = JailState.Root)
    {
        foreach (var id in JailState.AllIds(stateRoot))
        {
            JailState? state;
            try
            {
                state = JailState.Load(id, stateRoot);
            }
            catch (JailException)
            {
                continue;
            }
            if (state is not null)
            {
                yield return new Jail(state);
            }
        }
    }

    /// <summary>Lets the program of a created jail run (it waits on the start fifo).</summary>
    public void Start()
    {
        Guard(JailVerb.Start);
        var fifo = Path.Combine(_state.Directory, "start.fifo");
        // Non-blocking: with no jail-init holding the fifo open this fails at once (ENXIO) instead of hanging.
        int fd = Files.Open(fifo, OpenFlags.WriteOnly | OpenFlags.CloseOnExec | OpenFlags.NonBlocking);
        try
        {
            Files.WriteAll(fd, "s"u8);
        }
        finally
        {
            Files.Close(fd);
        }
        _state = _state with { Status = JailLifecycle.After(JailVerb.Start, JailStatus.Created) };
        _state.Save();
        RunHooks(HookStage.Poststart);
    }

    /// <summary>
    /// The jail's hooks of a stage after its program started or its init ended: a failure is only
    /// said (the runtime-spec: it does not undo what happened), on stderr.
    /// </summary>
    public void RunHooks(HookStage stage)
    {
        IReadOnlyList<HookPlan> hooks;
        try
        {
            hooks = SavedPlan().Hooks;
        }
        catch (Exception e) when (e is JailException or IOException or EndOfStreamException)
        {
            return;
        }
        if (hooks.Count > 0 && JailHooks.Run(stage, hooks, Refresh().OciStateJson()) is { } failure)
        {
            Console.Error.WriteLine($"initos jail: warning: jail {Id}: {failure}");
        }
    }

    /// <summary>Signals the jail's init, which forwards the signal to its program.</summary>
    public void Signal(int signal)
    {
        Guard(JailVerb.Kill);
        if (!Processes.Signal(Pid, signal))
        {
            throw SysException.FromLastError($"kill({Pid}, {Sys.Signal.Name(signal)})");
        }
    }

    /// <summary>The process settings the jail was started with (what `exec` starts from).</summary>
    public ProcessPlan StartedProcess => SavedPlan().Process;

    /// <summary>
    /// Starts <paramref name="process"/> in the running jail (HOME from the jail's passwd when its
    /// environment has none) and returns the pid of a helper outside the jail that exits with the
    /// program's status, and the program's own pid. <paramref name="detach"/>: the helper is gone
    /// already and the program belongs to the nearest subreaper (runc's exec -d).
    /// </summary>
    public (int Helper, int Program) StartExec(ProcessPlan process, bool detach = false, int terminalFd = -1)
    {
        Guard(JailVerb.Exec);
        var plan = SavedPlan();
        return JailProgram.EnterJail(Pid, _state.Cgroup, plan.CloneFlags, JailHome.WithHome(process, $"/proc/{Pid}/root"), detach: detach, stdioFd: terminalFd);
    }

    /// <summary>Runs <paramref name="process"/> in the running jail and waits: its exit.</summary>
    public ChildExit Exec(ProcessPlan process)
    {
        int helper = StartExec(process).Helper;
        return Processes.Wait(helper) ?? throw new JailException($"jail {Id}: lost the exec helper {helper}");
    }

    /// <summary>Removes a stopped jail; with <paramref name="force"/>, kills a live one first.</summary>
    public void Delete(bool force)
    {
        var status = Status;
        Guard(force ? JailVerb.ForceDelete : JailVerb.Delete);
        if (status is JailStatus.Creating or JailStatus.Created or JailStatus.Running)
        {
            Processes.Signal(Pid, Sys.Signal.Kill);
            WaitUntilStopped(TimeSpan.FromSeconds(10));
        }
        Release();
    }

    /// <summary>Everything the jail held on the host, given back once its init is gone: the one release path (poststop hooks first).</summary>
    public void Release()
    {
        RunHooks(HookStage.Poststop);
        JailLauncher.Release(_state);
    }

    /// <summary>Waits for the jail's init to end (it is not this process's child: the record says when).</summary>
    public void WaitUntilStopped(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (Status != JailStatus.Stopped)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new JailException($"jail {Id}: pid {Pid} did not end within {limit.TotalSeconds:F0} s");
            }
            Thread.Sleep(10);
        }
    }

    private void Guard(JailVerb verb) => JailLifecycle.Check(Id, verb, Status);

    private JailState Refresh() => _state = _state.Refreshed();

    private JailPlan SavedPlan()
    {
        var path = Path.Combine(_state.Directory, JailLauncher.SavedPlan);
        try
        {
            return PlanCodec.Decode(File.ReadAllBytes(path));
        }
        catch (IOException e)
        {
            throw new JailException($"jail {Id}: its plan {path} cannot be read: {e.Message}");
        }
    }
}

/// <summary>The jail-ID rule of `jail create`, the same wherever an ID comes from: a name, never a path.</summary>
public static class JailIds
{
    public static void Check(string id)
    {
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id.StartsWith('.'))
        {
            throw new JailException($"jail ID '{id}' must be 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
        }
    }
}

using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `initos admin jail debug NAME [WORD…]`: an ephemeral debug container. A shell (or the words,
/// run by it) joins every namespace and the cgroup of the running jail, as root of the jail with
/// all its capabilities and no seccomp filter, but the shell itself is the toolbox's — the
/// initramfs's static busybox, opened on the host and exec'd by fd — so it works whatever the
/// jailed OS has (or lacks). Nothing is left behind: it ends with the command.
/// </summary>
internal static class JailDebug
{
    public const string Toolbox = "/bin/busybox";

    private static readonly (ulong Flag, string Name)[] Kinds =
    [
        (Namespaces.User, "user"), (Namespaces.Mount, "mnt"), (Namespaces.Uts, "uts"), (Namespaces.Ipc, "ipc"),
        (Namespaces.Network, "net"), (Namespaces.Cgroup, "cgroup"), (Namespaces.Pid, "pid"),
    ];

    private static readonly ulong AllCapabilities = (1UL << (Capabilities.Last + 1)) - 1;

    public static int Run(string id, IReadOnlyList<string> words)
    {
        try
        {
            // A name, never a path: only records under the state root are looked at.
            JailIds.Check(id);
        }
        catch (JailException e)
        {
            Console.Error.WriteLine($"initos admin: {e.Message}");
            return 2;
        }
        if (JailState.Load(id)?.Refreshed() is not { Status: JailStatus.Running } state)
        {
            var known = JailState.AllIds().ToList();
            Console.Error.WriteLine($"initos admin: no running jail named '{id}' (jails: {(known.Count == 0 ? "none" : string.Join(", ", known))})");
            return 2;
        }
        using var target = ProcessHandle.Open(state.Pid);
        if (Refusal(id, state, target) is { } refusal)
        {
            Console.Error.WriteLine($"initos admin: {refusal}");
            return 2;
        }
        int toolbox = Files.Open(Toolbox, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            var process = new ProcessPlan
            {
                Args = words.Count == 0 ? ["sh"] : ["sh", "-c", string.Join(' ', words)],
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", $"TERM={Environment.GetEnvironmentVariable("TERM") ?? "dumb"}", "PS1=debug:" + id + "# "],
                Capabilities = new CapabilitySets(AllCapabilities, AllCapabilities, AllCapabilities, 0, 0),
                Seccomp = [],
            };
            int pid = JailProgram.Enter(state.Pid, state.Cgroup, DifferentNamespaces(state.Pid), process, toolbox, target);
            var exit = Processes.Wait(pid);
            return exit is { Exited: true } e ? e.ExitCode : 128 + (exit?.Signal ?? 0);
        }
        finally
        {
            Files.Close(toolbox);
        }
    }

    /// <summary>
    /// Why the recorded process must not be joined, or null: it is gone, it is not the process the
    /// jail started (a reused pid: its start time differs), or it is not in a jail at all (it
    /// shares the host's mount namespace: joining it would be a host root shell).
    /// </summary>
    private static string? Refusal(string id, JailState state, ProcessHandle? target)
    {
        if (target is null || JailState.ProcessStartTime(state.Pid) != state.PidStartTime)
        {
            return $"jail {id}: its process {state.Pid} is gone (or the pid is another process's now)";
        }
        return (DifferentNamespaces(state.Pid) & Namespaces.Mount) == 0
            ? $"jail {id}: its process {state.Pid} shares the host's mount namespace; jail debug joins jails, not the host"
            : null;
    }

    /// <summary>The namespaces the jail has of its own: those whose /proc/PID/ns link differs from ours.</summary>
    private static ulong DifferentNamespaces(int pid)
    {
        ulong flags = 0;
        foreach (var (flag, name) in Kinds)
        {
            var theirs = new FileInfo($"/proc/{pid}/ns/{name}").LinkTarget;
            var ours = new FileInfo($"/proc/self/ns/{name}").LinkTarget;
            if (theirs is not null && theirs != ours)
            {
                flags |= flag;
            }
        }
        return flags;
    }
}

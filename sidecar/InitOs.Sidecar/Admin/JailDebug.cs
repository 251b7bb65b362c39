using InitOs.Jails.Planning;
using InitOs.Jails.Running;
using InitOs.Sys;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// `initos admin jail debug NAME [WORD…]`: an ephemeral debug container. A shell (or the words,
/// run by it) joins every namespace and the cgroup of the running jail, as root of the jail with
/// the jail's capabilities (its bounding set) and no seccomp filter, but the shell itself is the toolbox's — the
/// initramfs's static busybox, from a sealed read-only copy, exec'd by fd — so it works whatever
/// the jailed OS has (or lacks). Nothing is left behind: it ends with the command.
/// </summary>
internal static class JailDebug
{
    public const string Toolbox = "/bin/busybox";

    private static readonly (ulong Flag, string Name)[] Kinds =
    [
        (Namespaces.User, "user"), (Namespaces.Mount, "mnt"), (Namespaces.Uts, "uts"), (Namespaces.Ipc, "ipc"),
        (Namespaces.Network, "net"), (Namespaces.Cgroup, "cgroup"), (Namespaces.Pid, "pid"),
    ];

    /// <summary>
    /// The jail's own capabilities: its process's bounding set (/proc/PID/status CapBnd). Not
    /// every capability there is: a privileged jail's bounding set is what its host allowed, and
    /// asking for more fails at capset.
    /// </summary>
    private static ulong CapabilitiesOf(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("CapBnd:", StringComparison.Ordinal));
        return line is not null && ulong.TryParse(line["CapBnd:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var mask)
            ? mask
            : 0;
    }

    public static int Run(string id, IReadOnlyList<string> words)
    {
        var (pid, refusal, code) = Start(id, words.Count == 0 ? ["sh"] : ["sh", "-c", string.Join(' ', words)]);
        if (refusal is not null)
        {
            Console.Error.WriteLine($"initos admin: {refusal}");
            return code;
        }
        var exit = Processes.Wait(pid);
        return exit is { Exited: true } e ? e.ExitCode : 128 + (exit?.Signal ?? 0);
    }

    /// <summary>
    /// An upgrade probe: <paramref name="command"/> run by the toolbox's shell in the jail (so the
    /// OS's own programs, such as systemctl, are found on its PATH). Null when it exited 0 within
    /// <paramref name="timeout"/>; otherwise why not (it is killed when it runs too long).
    /// </summary>
    internal static string? Probe(string id, string command, TimeSpan timeout)
    {
        var (pid, refusal, _) = Start(id, ["sh", "-c", command]);
        if (refusal is not null)
        {
            return refusal;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Processes.Wait(pid, noHang: true) is { } exit)
            {
                return exit is { Exited: true, ExitCode: 0 } ? null : exit.Exited ? $"exited {exit.ExitCode}" : $"killed by signal {exit.Signal}";
            }
            Thread.Sleep(50);
        }
        Processes.Signal(pid, Signal.Kill);
        Processes.Wait(pid);
        return $"still running after {timeout.TotalSeconds:F0} s; killed";
    }

    /// <summary>The shell started in the jail: its pid, or why not (and the exit code that says so).</summary>
    private static (int Pid, string? Refusal, int Code) Start(string id, IReadOnlyList<string> args)
    {
        try
        {
            // A name, never a path: only records under the state root are looked at.
            JailIds.Check(id);
        }
        catch (JailException e)
        {
            return (0, e.Message, 2);
        }
        if (JailState.Load(id)?.Refreshed() is not { Status: JailStatus.Running } state)
        {
            var known = JailState.AllIds().ToList();
            return (0, $"no running jail named '{id}' (jails: {(known.Count == 0 ? "none" : string.Join(", ", known))})", 2);
        }
        using var target = ProcessHandle.Open(state.Pid);
        if (Refusal(id, state, target) is { } refusal)
        {
            return (0, refusal, 2);
        }
        // A sealed copy (read-only bind mount), as jail-init runs from: a process in the jail that
        // holds /proc/PID/exe of the debug shell cannot reopen the host's busybox for writing (CVE-2019-5736).
        int toolbox = SealedBinary.ReadOnlyCopy(Toolbox, JailLauncher.SealedCopies);
        ulong jailCapabilities = CapabilitiesOf(state.Pid);
        try
        {
            var process = new ProcessPlan
            {
                Args = [.. args],
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", $"TERM={Environment.GetEnvironmentVariable("TERM") ?? "dumb"}", "PS1=debug:" + id + "# "],
                Capabilities = new CapabilitySets(jailCapabilities, jailCapabilities, jailCapabilities, 0, 0),
                Seccomp = [],
            };
            return (JailProgram.Enter(state.Pid, state.Cgroup, DifferentNamespaces(state.Pid), process, toolbox, target), null, 0);
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

using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>Starting the jail's program from inside the jail (jail-init, after the root is built).</summary>
public static class JailProgram
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>fork + exec with the plan's ids, capabilities, limits and filter; the exec error, if any.</summary>
    /// <param name="preservedFds">fds 3…3+n-1 that reach the program (runc's --preserve-fds).</param>
    public static (int Pid, string? ExecError) Spawn(ProcessPlan process, int preservedFds = 0)
    {
        var path = Resolve(process.Args[0], process.Env);
        var (pid, failure) = JailExec.Spawn(path, process.Args, process.Env, Settings(process) with { PreservedFds = preservedFds });
        return (pid, failure?.ToString());
    }

    public static JailProcessSettings Settings(ProcessPlan process) => new()
    {
        Uid = process.Uid,
        Gid = process.Gid,
        Groups = process.AdditionalGids,
        Umask = process.Umask is { } umask ? (int)umask : -1,
        Bounding = process.Capabilities.Bounding,
        Effective = process.Capabilities.Effective,
        Permitted = process.Capabilities.Permitted,
        Inheritable = process.Capabilities.Inheritable,
        Ambient = process.Capabilities.Ambient,
        NoNewPrivileges = process.NoNewPrivileges,
        Rlimits = process.Rlimits.Select(r => (r.Resource, r.Soft, r.Hard)).ToList(),
        Seccomp = process.Seccomp,
        Cwd = process.Cwd,
        LastCapability = LastCapability(),
    };

    /// <summary>args[0] through the jail's PATH (the spec's env), as a shell would find it; as is when it has a slash.</summary>
    public static string Resolve(string program, IReadOnlyList<string> env) => Resolve(program, env, "");

    /// <summary>As <see cref="Resolve(string, IReadOnlyList{string})"/>, looking under <paramref name="root"/> (e.g. /proc/PID/root).</summary>
    public static string Resolve(string program, IReadOnlyList<string> env, string root)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return program;
        }
        var pathVariable = env.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? DefaultPath;
        foreach (var directory in pathVariable.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (Files.Status(root + candidate, followSymlinks: true) is { IsRegularFile: true, IsExecutable: true })
            {
                return candidate;
            }
        }
        return program; // exec reports ENOENT with the name the spec gave.
    }

    /// <summary>
    /// `initos jail exec`: <paramref name="process"/> (the bundle's, with other args) in the
    /// namespaces of the running jail whose init is <paramref name="initPid"/>. Returns the pid of
    /// a helper (outside the jail's pid namespace) that exits with the program's status.
    /// </summary>
    /// <param name="executableFd">-1: args[0] from the jail's files; else an open host binary (a toolbox) to run there.</param>
    /// <param name="target">The init held by a pidfd: checked after the namespace fds are opened, so they cannot be a pid-reuser's.</param>
    public static int Enter(int initPid, string? cgroup, ulong cloneFlags, ProcessPlan process, int executableFd = -1, ProcessHandle? target = null) =>
        EnterJail(initPid, cgroup, cloneFlags, process, executableFd, target).Helper;

    /// <summary>As <see cref="Enter"/>, with the program's own pid; <paramref name="detach"/>: the helper exits at once (runc's exec -d).</summary>
    /// <param name="stdioFd">A terminal for the program's stdio and controlling terminal (exec --tty); -1: this process's stdio.</param>
    public static (int Helper, int Program) EnterJail(int initPid, string? cgroup, ulong cloneFlags, ProcessPlan process, int executableFd = -1, ProcessHandle? target = null, bool detach = false, int stdioFd = -1)
    {
        // The user namespace first: the others are then joined with its capabilities.
        var order = new (ulong Flag, string Name)[]
        {
            (Namespaces.User, "user"), (Namespaces.Mount, "mnt"), (Namespaces.Uts, "uts"), (Namespaces.Ipc, "ipc"),
            (Namespaces.Network, "net"), (Namespaces.Cgroup, "cgroup"), (Namespaces.Pid, "pid"),
        };
        var fds = new List<int>();
        int cgroupProcs = -1;
        try
        {
            cgroupProcs = JailCgroup.OpenProcs(cgroup);
            foreach (var (flag, name) in order)
            {
                if ((cloneFlags & flag) != 0)
                {
                    fds.Add(Files.Open($"/proc/{initPid}/ns/{name}", OpenFlags.ReadOnly | OpenFlags.CloseOnExec));
                }
            }
            // The namespace fds are open: if the process held by the pidfd is still there, they are its own.
            if (target is { IsAlive: false })
            {
                throw new JailException($"the jail's process {initPid} ended while it was being joined");
            }
            var path = Resolve(process.Args[0], process.Env, $"/proc/{initPid}/root");
            var (pid, program, failure) = JailExec.Enter(cgroupProcs, fds, (cloneFlags & Namespaces.User) != 0, path, process.Args, process.Env, Settings(process) with { ExecutableFd = executableFd, StdioFd = stdioFd }, detach);
            if (failure is { } f)
            {
                if (detach)
                {
                    Processes.Wait(pid);
                }
                throw new JailException($"exec {process.Args[0]} in the jail failed at {f}");
            }
            if (detach)
            {
                Processes.Wait(pid); // The helper has left; the program is the subreaper's now.
            }
            return (pid, program);
        }
        finally
        {
            foreach (var fd in fds.Append(cgroupProcs).Where(fd => fd >= 0))
            {
                Files.Close(fd);
            }
        }
    }

    /// <summary>The kernel's last capability (/proc/sys/kernel/cap_last_cap); newer ones are dropped too.</summary>
    private static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return Capabilities.Last;
        }
    }
}

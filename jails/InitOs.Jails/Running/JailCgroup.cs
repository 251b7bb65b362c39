using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// A jail's cgroup on a cgroup v2 host: made before the jail's init runs, limits written, the
/// init moved in before "go" (so everything the jail starts is counted), killed and removed
/// when the jail is deleted. On a host without cgroup2 at /sys/fs/cgroup (the v1 or hybrid
/// layout) jails get no cgroup, and a plan with limits is refused rather than run unlimited.
/// </summary>
public static class JailCgroup
{
    public const string Root = "/sys/fs/cgroup";
    private const long Cgroup2Magic = 0x63677270;

    /// <summary>
    /// The jail's cgroup directory, or null on a host without cgroup v2. There, a plan whose only
    /// limit is pids.max gets a cgroup of the v1 pids hierarchy instead (the hybrid layout has one;
    /// runc uses it too); any other limit is refused.
    /// </summary>
    public static string? Create(JailPlan plan, string root = Root)
    {
        if (!IsCgroup2(root))
        {
            if (plan.Limits.Count > 0 && plan.Limits.All(l => l.File == "pids.max") && IsCgroup1(Path.Combine(root, "pids")))
            {
                return CreateV1Pids(plan, Path.Combine(root, "pids"));
            }
            if (plan.Limits.Count > 0)
            {
                throw new JailException($"jail {plan.Id}: {ResourcePlanner.Field} asks for {string.Join(", ", plan.Limits.Select(l => l.File))}, "
                    + $"but {root} is not a cgroup2 mount (this host has the cgroup v1 or hybrid layout); InitOS applies limits only through cgroup v2");
            }
            return null;
        }
        var directory = Path.Combine(root, plan.CgroupPath);
        PrepareAncestors(root, plan.CgroupPath, plan.Limits.Select(l => l.Controller).Distinct().ToList(), plan.Id);
        if (Directory.Exists(directory))
        {
            throw new JailException($"jail {plan.Id}: cgroup {directory} already exists (another jail, or one not deleted)");
        }
        Files.MakeDirectory(directory);
        try
        {
            foreach (var limit in plan.Limits)
            {
                Write(directory, limit.File, limit.Value, plan.Id);
            }
        }
        catch
        {
            Remove(directory);
            throw;
        }
        return directory;
    }

    /// <summary>Moves <paramref name="pid"/> (and so all it will start) into the jail's cgroup.</summary>
    public static void Join(string? directory, int pid)
    {
        if (directory is not null)
        {
            Files.WriteText(Path.Combine(directory, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>For `exec`: an fd on cgroup.procs that the new process writes itself into; -1 without a cgroup.</summary>
    public static int OpenProcs(string? directory) =>
        directory is null ? -1 : Files.Open(Path.Combine(directory, "cgroup.procs"), OpenFlags.WriteOnly | OpenFlags.CloseOnExec);

    /// <summary>Kills whatever is left in the cgroup (cgroup.kill) and removes it; a missing cgroup is fine.</summary>
    public static void Remove(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }
        try
        {
            Files.WriteText(Path.Combine(directory, "cgroup.kill"), "1");
        }
        catch (SysException)
        {
            // cgroup v1 and kernels before 5.14 have no cgroup.kill.
            KillListed(directory);
        }
        var deadline = Environment.TickCount64 + 2000;
        while (true)
        {
            try
            {
                Files.Remove(directory, isDirectory: true);
                return;
            }
            catch (SysException e) when (e.Errno == Errno.EBUSY && Environment.TickCount64 < deadline)
            {
                // The killed processes are still exiting.
                Thread.Sleep(5);
            }
            catch (SysException e) when (e.Errno == Errno.ENOENT)
            {
                return;
            }
        }
    }

    private static string CreateV1Pids(JailPlan plan, string hierarchy)
    {
        var directory = Path.Combine(hierarchy, plan.CgroupPath);
        if (Directory.Exists(directory))
        {
            throw new JailException($"jail {plan.Id}: cgroup {directory} already exists (another jail, or one not deleted)");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        Files.MakeDirectory(directory);
        try
        {
            Write(directory, "pids.max", plan.Limits.Single().Value, plan.Id);
        }
        catch
        {
            Remove(directory);
            throw;
        }
        return directory;
    }

    /// <summary>Without cgroup.kill (v1, or a kernel before 5.14): every process the cgroup lists gets SIGKILL.</summary>
    private static void KillListed(string directory)
    {
        try
        {
            foreach (var line in File.ReadAllLines(Path.Combine(directory, "cgroup.procs")))
            {
                if (int.TryParse(line, System.Globalization.CultureInfo.InvariantCulture, out var pid))
                {
                    Processes.Signal(pid, Signal.Kill);
                }
            }
        }
        catch (IOException)
        {
            // Gone already.
        }
    }

    private static bool IsCgroup1(string hierarchy)
    {
        const long cgroupMagic = 0x27e0eb;
        try
        {
            return FileSystems.Status(hierarchy).Type == cgroupMagic;
        }
        catch (SysException)
        {
            return false;
        }
    }

    private static bool IsCgroup2(string root)
    {
        try
        {
            return FileSystems.Status(root).Type == Cgroup2Magic;
        }
        catch (SysException)
        {
            return false;
        }
    }

    /// <summary>
    /// Makes the cgroup's ancestors, and has each delegate the controllers the limits need to its
    /// children (cgroup.subtree_control).
    /// </summary>
    private static void PrepareAncestors(string root, string relativePath, IReadOnlyList<string> controllers, string id)
    {
        if (controllers.Count > 0)
        {
            var available = File.ReadAllText(Path.Combine(root, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var missing = controllers.Where(c => !available.Contains(c)).ToList();
            if (missing.Count > 0)
            {
                throw new JailException($"jail {id}: {ResourcePlanner.Field} needs the {string.Join(", ", missing)} controller(s), which {root} does not have (it has: {string.Join(' ', available)})");
            }
        }
        var enable = string.Join(' ', controllers.Select(c => "+" + c));
        var parent = root;
        foreach (var part in relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[..^1])
        {
            Delegate(parent, enable, id);
            parent = Path.Combine(parent, part);
            Files.MakeDirectory(parent);
        }
        Delegate(parent, enable, id);
    }

    private static void Delegate(string directory, string enable, string id)
    {
        if (enable.Length > 0)
        {
            Write(directory, "cgroup.subtree_control", enable, id);
        }
    }

    private static void Write(string directory, string file, string value, string id)
    {
        try
        {
            Files.WriteText(Path.Combine(directory, file), value);
        }
        catch (SysException e)
        {
            throw new JailException($"jail {id}: {e.Message}");
        }
    }
}

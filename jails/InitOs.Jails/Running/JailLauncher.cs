using System.Globalization;
using System.Text;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// The host side of starting a jail: state directory, a sealed copy of this binary as the
/// jail's init, clone into the plan's namespaces, id maps, "go", and the jail-init's report
/// that its root is built. A failure at any step removes what was made and names the step.
/// </summary>
public static class JailLauncher
{
    public const string InitApplet = "jail-init";
    /// <summary>
    /// The fds jail-init finds, after the caller's preserved ones (3…3+preserved-1): the plan, its
    /// report pipe, and the start fifo (create only). jail-init learns the count from its arguments.
    /// </summary>
    public static (int Plan, int Report, int Start) InitFds(int preserved) => (3 + preserved, 4 + preserved, 5 + preserved);

    /// <summary>jail-init's argument that says how many fds the caller preserved.</summary>
    public const string PreservedFdsArgument = "--preserved-fds";

    /// <summary>The most fds `--preserve-fds` may keep (the native clone places at most 1024 in all).</summary>
    public const int MostPreservedFds = 1000;
    /// <summary>Where the jails' read-only copies of this binary live (one per binary, kept until reboot).</summary>
    public const string SealedCopies = "/run/initos/sealed";

    /// <param name="waitForStart">create: the jail waits for `start`; run: the program starts at once.</param>
    /// <param name="foreground">run: the jail dies with this command (parent-death signal).</param>
    public static JailState Launch(JailPlan plan, bool waitForStart, bool foreground, string stateRoot = JailState.Root)
    {
        var directory = JailState.DirectoryOf(plan.Id, stateRoot);
        Directory.CreateDirectory(stateRoot);
        try
        {
            Directory.CreateDirectory(directory);
            if (Directory.EnumerateFileSystemEntries(directory).Any())
            {
                throw new JailException($"jail {plan.Id} already exists ({directory})");
            }
        }
        catch (IOException e)
        {
            throw new JailException($"jail {plan.Id}: cannot create {directory}: {e.Message}");
        }
        string? cgroup = null;
        try
        {
            // Made here, by host root: in a user namespace the jail's init could not create it.
            Directory.CreateDirectory(plan.RootMountPoint);
            plan = WithIdRange(plan);
            GiveUpperToJailRoot(plan);
            if (plan.Network is { } network)
            {
                plan = JailNetworking.Prepare(plan, network, directory);
            }
            cgroup = JailCgroup.Create(plan);
            return Start(plan, directory, cgroup, waitForStart, foreground, stateRoot);
        }
        catch
        {
            JailCgroup.Remove(cgroup);
            ReleaseLease(plan.Lease);
            JailNetworking.Detach(plan.Id, plan.Network);
            ReleaseIdRange(plan.IdRangeStart);
            RemoveDirectory(directory);
            throw;
        }
    }

    private static JailState Start(JailPlan plan, string directory, string? cgroup, bool waitForStart, bool foreground, string stateRoot)
    {
        var fds = new List<int>();
        var sources = OpenBindSources(plan);
        fds.AddRange(sources.Fds);
        plan = sources.Plan;
        int[] go = Pipe(), report = Pipe();
        int exe = SealedBinary.ReadOnlyCopy("/proc/self/exe", SealedCopies);
        int planFd = PlanMemfd(plan, directory);
        int startFd = waitForStart ? StartFifo(directory) : -1;
        fds.AddRange([go[0], go[1], report[0], report[1], exe, planFd]);
        if (startFd >= 0)
        {
            fds.Add(startFd);
        }
        try
        {
            // Preserved fds, then plan, report, start (closed for run), then the bind sources.
            var childFds = PreservedFds(plan.PreservedFds).Concat([planFd, report[1], startFd]).Concat(sources.Fds).ToArray();
            var joined = OpenJoinedNamespaces(plan);
            fds.AddRange(joined);
            ulong joinedFlags = plan.JoinedNamespaces.Aggregate(0UL, (all, j) => all | j.Flag);
            var child = JailExec.CloneExec(plan.CloneFlags & ~joinedFlags, exe, InitArguments(waitForStart, plan.PreservedFds), [], childFds, go[0], foreground ? Signal.Kill : 0, joined);
            Files.Close(report[1]);
            fds.Remove(report[1]);
            var state = new JailState
            {
                Id = plan.Id,
                Status = JailStatus.Creating,
                Pid = child.Pid,
                PidStartTime = JailState.ProcessStartTime(child.Pid) ?? 0,
                Bundle = plan.BundleDirectory,
                Created = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                Lease = plan.Lease,
                Network = plan.Network,
                IdRangeStart = plan.IdRangeStart,
                Cgroup = cgroup,
                StateRoot = stateRoot,
                Annotations = plan.Annotations,
            };
            state.Save();
            try
            {
                JailCgroup.Join(cgroup, child.Pid);
                WriteIdMaps(child.Pid, plan);
                MountIdmappedLower(child.Pid, plan);
                JailNetworking.Attach(plan, child.Pid);
                // The jail's namespaces exist and are joined to its network: prestart and
                // createRuntime hooks run now, before its root is built (a failure stops it).
                if ((JailHooks.Run(HookStage.Prestart, plan.Hooks, state.OciStateJson())
                    ?? JailHooks.Run(HookStage.CreateRuntime, plan.Hooks, state.OciStateJson())) is { } hookFailure)
                {
                    throw new JailException($"jail {plan.Id}: {hookFailure}");
                }
                Files.WriteAll(go[1], "g"u8);
            }
            catch
            {
                Processes.Signal(child.Pid, Signal.Kill);
                throw;
            }
            if (child.Result() is { } failure)
            {
                throw new JailException($"jail {plan.Id}: starting its init failed at {failure}");
            }
            var message = ReadAll(report[0]);
            if (message != "ok")
            {
                Processes.Signal(child.Pid, Signal.Kill);
                throw new JailException($"jail {plan.Id}: {(message.Length > 0 ? message : "its init exited while building the root")}");
            }
            state = state with { Status = waitForStart ? JailStatus.Created : JailStatus.Running };
            state.Save();
            return state;
        }
        finally
        {
            foreach (var fd in fds)
            {
                Files.Close(fd);
            }
        }
    }

    /// <summary>
    /// With a user namespace the jail's root mounts its binds as a user the host may not let
    /// through the source's directories (runc's case of a source under a 0700 parent): host root
    /// clones each source here (open_tree: a detached mount), the fd goes to jail-init after its
    /// own three, and jail-init attaches it with move_mount (crun's way). Without one, the plan is left as it is.
    /// </summary>
    private static (JailPlan Plan, List<int> Fds) OpenBindSources(JailPlan plan)
    {
        var fds = new List<int>();
        if ((plan.CloneFlags & Namespaces.User) == 0 || !plan.Mounts.Any(m => m.Bind))
        {
            return (plan, fds);
        }
        int next = InitFds(plan.PreservedFds).Start + 1;
        var mounts = new List<MountStep>();
        try
        {
            foreach (var mount in plan.Mounts)
            {
                if (!mount.Bind || mount.Source is null)
                {
                    mounts.Add(mount);
                    continue;
                }
                fds.Add(Mounts.OpenTreeClone(mount.Source, (mount.Flags & MountFlags.Recursive) != 0));
                mounts.Add(mount with { Source = $"/proc/self/fd/{next}", TreeFd = next++ });
            }
        }
        catch
        {
            fds.ForEach(Files.Close);
            throw;
        }
        return (plan with { Mounts = mounts }, fds);
    }

    /// <summary>The namespaces the spec names by path, opened and checked to be of the type it says.</summary>
    private static List<int> OpenJoinedNamespaces(JailPlan plan)
    {
        var fds = new List<int>();
        try
        {
            foreach (var ns in plan.JoinedNamespaces)
            {
                int fd = Files.Open(ns.Path, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
                fds.Add(fd);
                if (Files.NamespaceType(fd) != ns.Flag)
                {
                    throw new JailException($"jail {plan.Id}: {ns.Path} is not a {ns.Type} namespace");
                }
            }
            return fds;
        }
        catch
        {
            fds.ForEach(Files.Close);
            throw;
        }
    }

    private static string[] InitArguments(bool waitForStart, int preserved)
    {
        var args = new List<string> { "initos", InitApplet };
        if (waitForStart)
        {
            args.Add("--wait-start");
        }
        if (preserved > 0)
        {
            args.AddRange([PreservedFdsArgument, preserved.ToString(CultureInfo.InvariantCulture)]);
        }
        return [.. args];
    }

    /// <summary>
    /// runc's --preserve-fds N: this process's fds 3…3+N-1 go to the jail at the same numbers; one
    /// this process does not have (or opened itself, close-on-exec) leaves its number closed there.
    /// </summary>
    private static IEnumerable<int> PreservedFds(int count) =>
        Enumerable.Range(3, count).Select(fd => Files.IsInheritedOpen(fd) ? fd : -1);

    /// <summary>A user namespace without mappings in the spec gets a host range of its own: 0…65535 inside.</summary>
    private static JailPlan WithIdRange(JailPlan plan)
    {
        if ((plan.CloneFlags & Namespaces.User) == 0 || plan.UidMap.Count > 0)
        {
            return plan;
        }
        uint start = IdRanges.Allocate(plan.Id);
        IdMap[] map = [new IdMap(0, start, IdRanges.Size)];
        return plan with { UidMap = map, GidMap = map, IdRangeStart = start };
    }

    /// <summary>
    /// Everything a jail held on the host, once its init is gone: the cgroup, the pool slot
    /// (destroyed and made fresh), the network, the id range and the state directory.
    /// </summary>
    public static void Release(JailState state)
    {
        JailCgroup.Remove(state.Cgroup);
        ReleaseLease(state.Lease);
        JailNetworking.Detach(state.Id, state.Network);
        ReleaseIdRange(state.IdRangeStart);
        RemoveDirectory(state.Directory);
    }

    /// <summary>The one way a pool slot goes back: its upper destroyed and the slot made fresh for the next jail.</summary>
    public static void ReleaseLease(PoolLease? lease)
    {
        if (lease is not null)
        {
            Storage.PoolSettings.Open(lease.PoolDirectory).Release(lease.Slot, lease.Token);
        }
    }

    /// <summary>
    /// With a user namespace, the overlay's upper and work directories (and the console) belong
    /// to the host ids that the jail's root maps to: the overlay is mounted, and written, as that root. The slot
    /// is fresh for every run, so nothing else ever owned them.
    /// </summary>
    private static void GiveUpperToJailRoot(JailPlan plan)
    {
        if ((plan.CloneFlags & Namespaces.User) == 0 || (plan.Overlay is null && plan.Console is null))
        {
            return;
        }
        uint uid = HostIdOfRoot(plan.UidMap, "linux.uidMappings", plan.Id), gid = HostIdOfRoot(plan.GidMap, "linux.gidMappings", plan.Id);
        if (plan.Overlay is { } overlay)
        {
            Files.Chown(overlay.Upper, uid, gid);
            Files.Chown(overlay.Work, uid, gid);
        }
        if (plan.Console is { } console)
        {
            // The jail's root opens its console: the pty slave is its own.
            Files.Chown(console, uid, gid);
        }
    }

    private static uint HostIdOfRoot(IReadOnlyList<IdMap> map, string field, string id) =>
        map.FirstOrDefault(m => m.Inside == 0 && m.Count > 0)?.Outside
            ?? throw new JailException($"jail {id}: {field} maps no id 0, so no one inside could own the overlay's upper layer");

    public static void ReleaseIdRange(uint? start)
    {
        if (start is { } value)
        {
            IdRanges.Release(value);
        }
    }

    private static void WriteIdMaps(int pid, JailPlan plan)
    {
        if ((plan.CloneFlags & Namespaces.User) == 0)
        {
            return;
        }
        File.WriteAllText($"/proc/{pid}/uid_map", Format(plan.UidMap));
        File.WriteAllText($"/proc/{pid}/gid_map", Format(plan.GidMap));
    }

    /// <summary>After the maps are written (an idmapping needs them), before "go": the jail's mount namespace receives it by propagation.</summary>
    private static void MountIdmappedLower(int pid, JailPlan plan)
    {
        if (!plan.IdmapLower)
        {
            return;
        }
        Directory.CreateDirectory(plan.IdmappedLower);
        Mounts.MountIdmapped(plan.RootfsSource, $"/proc/{pid}/ns/user", plan.IdmappedLower);
    }

    private static string Format(IReadOnlyList<IdMap> maps) =>
        string.Concat(maps.Select(m => $"{m.Inside} {m.Outside} {m.Count}\n"));

    /// <summary>The plan for jail-init, in a memfd; the same bytes beside the state, where `exec` reads them.</summary>
    private static int PlanMemfd(JailPlan plan, string directory)
    {
        var encoded = PlanCodec.Encode(plan);
        File.WriteAllBytes(Path.Combine(directory, SavedPlan), encoded);
        File.SetUnixFileMode(Path.Combine(directory, SavedPlan), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        int fd = Memfd.Create("initos-plan");
        Files.WriteAll(fd, encoded);
        return fd;
    }

    /// <summary>The plan the jail was started with, as jail-init got it: what `exec` enters with.</summary>
    public const string SavedPlan = "plan.bin";

    /// <summary>The fifo `start` writes to; jail-init holds it open read-write so the open never blocks.</summary>
    private static int StartFifo(string directory)
    {
        var path = Path.Combine(directory, "start.fifo");
        Fifo.Create(path);
        return Files.Open(path, OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
    }

    private static int[] Pipe() => Pipes.Create(closeOnExec: true);

    private static string ReadAll(int fd)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int n;
        while ((n = Files.Read(fd, buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString().Trim();
    }

    public static void RemoveDirectory(string directory)
    {
        // An idmapped lower is a mount of the image: detached first, so deleting never reaches into it.
        var lower = Path.Combine(directory, "lower");
        if (Directory.Exists(lower))
        {
            try
            {
                Mounts.Unmount(lower, UnmountFlags.Detach);
            }
            catch (SysException)
            {
                // Not a mount point (any more).
            }
        }
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A mount point still busy is left for `delete` to retry; the error that brought us here matters more.
        }
    }
}

/// <summary>A jail operation that could not be done; the message says which jail and why.</summary>
public sealed class JailException(string message) : Exception(message);

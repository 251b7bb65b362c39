using InitOs.Jails.Network;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// The plan's wire format between the host and jail-init: both ends are the same binary, so a
/// plain field-by-field binary encoding serves, and it costs microseconds where JSON's first use
/// cost milliseconds of every jail's start. A unit test round-trips a plan with every field set.
/// </summary>
public static class PlanCodec
{
    public static byte[] Encode(JailPlan plan)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(plan.Id);
            w.Write(plan.BundleDirectory);
            w.Write(plan.RootfsSource);
            w.Write(plan.RootMountPoint);
            Optional(w, plan.Overlay, (w, o) => { w.Write(o.Upper); w.Write(o.Work); });
            Optional(w, plan.Lease, (w, l) => { w.Write(l.PoolDirectory); w.Write(l.Slot); w.Write(l.Token); });
            w.Write(plan.RootReadonly);
            w.Write(plan.CloneFlags);
            w.Write((ulong)plan.RootPropagation);
            List(w, plan.Mounts, (w, m) =>
            {
                w.Write(m.Destination); w.Write(m.Type); OptionalString(w, m.Source); w.Write((ulong)m.Flags);
                OptionalString(w, m.Data); w.Write((ulong)m.Propagation); w.Write(m.Bind); w.Write(m.TreeFd ?? -1);
            });
            List(w, plan.Devices, (w, d) => { w.Write(d.Path); w.Write(d.Kind); w.Write(d.Major); w.Write(d.Minor); w.Write(d.Mode); w.Write(d.Uid); w.Write(d.Gid); });
            List(w, plan.MaskedPaths, (w, p) => w.Write(p));
            List(w, plan.ReadonlyPaths, (w, p) => w.Write(p));
            List(w, plan.Sysctls, (w, s) => { w.Write(s.Key); w.Write(s.Value); });
            OptionalString(w, plan.Hostname);
            List(w, plan.UidMap, IdMap);
            List(w, plan.GidMap, IdMap);
            w.Write(plan.IdRangeStart.HasValue);
            w.Write(plan.IdRangeStart ?? 0);
            Process(w, plan.Process);
            Optional(w, plan.Network, (w, n) => { w.Write((int)n.Mode); w.Write(n.Bridge); w.Write(n.Subnet); });
            List(w, plan.Limits, (w, l) => { w.Write(l.File); w.Write(l.Value); });
            w.Write(plan.CgroupPath);
            w.Write(plan.ProgramIsInit);
            w.Write(plan.IdmapLower);
            OptionalString(w, plan.Console);
            w.Write(plan.PreservedFds);
            List(w, plan.Hooks, (w, h) =>
            {
                w.Write((int)h.Stage); w.Write(h.Path); List(w, h.Args, (w, a) => w.Write(a));
                w.Write(h.Env is not null); List(w, h.Env ?? [], (w, e) => w.Write(e));
                w.Write(h.Timeout?.Ticks ?? 0);
            });
            List(w, plan.Annotations.ToList(), (w, a) => { w.Write(a.Key); w.Write(a.Value); });
            List(w, plan.JoinedNamespaces, (w, j) => { w.Write(j.Flag); w.Write(j.Type); w.Write(j.Path); });
        }
        return stream.ToArray();
    }

    public static JailPlan Decode(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return new JailPlan
        {
            Id = r.ReadString(),
            BundleDirectory = r.ReadString(),
            RootfsSource = r.ReadString(),
            RootMountPoint = r.ReadString(),
            Overlay = Optional(r, r => new OverlayDirs(r.ReadString(), r.ReadString())),
            Lease = Optional(r, r => new PoolLease(r.ReadString(), r.ReadInt32(), r.ReadString())),
            RootReadonly = r.ReadBoolean(),
            CloneFlags = r.ReadUInt64(),
            RootPropagation = (MountFlags)r.ReadUInt64(),
            Mounts = List(r, r => new MountStep(r.ReadString(), r.ReadString(), OptionalString(r), (MountFlags)r.ReadUInt64(), OptionalString(r), (MountFlags)r.ReadUInt64(), r.ReadBoolean())
            {
                TreeFd = r.ReadInt32() is var fd and >= 0 ? fd : null,
            }),
            Devices = List(r, r => new DeviceNode(r.ReadString(), r.ReadChar(), r.ReadInt64(), r.ReadInt64(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32())),
            MaskedPaths = List(r, r => r.ReadString()),
            ReadonlyPaths = List(r, r => r.ReadString()),
            Sysctls = List(r, r => new SysctlSetting(r.ReadString(), r.ReadString())),
            Hostname = OptionalString(r),
            UidMap = List(r, IdMap),
            GidMap = List(r, IdMap),
            IdRangeStart = ReadOptionalUInt(r),
            Process = Process(r),
            Network = Optional(r, r => new NetworkPlan((NetworkMode)r.ReadInt32(), r.ReadString(), r.ReadString())),
            Limits = List(r, r => new CgroupSetting(r.ReadString(), r.ReadString())),
            CgroupPath = r.ReadString(),
            ProgramIsInit = r.ReadBoolean(),
            IdmapLower = r.ReadBoolean(),
            Console = OptionalString(r),
            PreservedFds = r.ReadInt32(),
            Hooks = List(r, Hook),
            Annotations = List(r, r => KeyValuePair.Create(r.ReadString(), r.ReadString())).ToDictionary(),
            JoinedNamespaces = List(r, r => new JoinedNamespace(r.ReadUInt64(), r.ReadString(), r.ReadString())),
        };
    }

    private static HookPlan Hook(BinaryReader r)
    {
        var stage = (HookStage)r.ReadInt32();
        var path = r.ReadString();
        var args = List(r, r => r.ReadString());
        bool hasEnv = r.ReadBoolean();
        var env = List(r, r => r.ReadString());
        long ticks = r.ReadInt64();
        return new HookPlan(stage, path, args, hasEnv ? env : null, ticks > 0 ? TimeSpan.FromTicks(ticks) : null);
    }

    private static void Process(BinaryWriter w, ProcessPlan p)
    {
        List(w, p.Args, (w, a) => w.Write(a));
        List(w, p.Env, (w, e) => w.Write(e));
        w.Write(p.Cwd);
        w.Write(p.Uid);
        w.Write(p.Gid);
        List(w, p.AdditionalGids, (w, g) => w.Write(g));
        w.Write(p.Umask.HasValue);
        w.Write(p.Umask ?? 0);
        var c = p.Capabilities;
        w.Write(c.Bounding); w.Write(c.Effective); w.Write(c.Permitted); w.Write(c.Inheritable); w.Write(c.Ambient);
        List(w, p.Rlimits, (w, l) => { w.Write(l.Resource); w.Write(l.Soft); w.Write(l.Hard); });
        w.Write(p.NoNewPrivileges);
        w.Write(p.Terminal);
        w.Write(p.Seccomp.Length);
        w.Write(p.Seccomp);
    }

    private static ProcessPlan Process(BinaryReader r)
    {
        var args = List(r, r => r.ReadString());
        var env = List(r, r => r.ReadString());
        var cwd = r.ReadString();
        var uid = r.ReadUInt32();
        var gid = r.ReadUInt32();
        var groups = List(r, r => r.ReadUInt32());
        bool hasUmask = r.ReadBoolean();
        var umask = r.ReadUInt32();
        var caps = new CapabilitySets(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64());
        var rlimits = List(r, r => new RlimitSetting(r.ReadInt32(), r.ReadUInt64(), r.ReadUInt64()));
        var noNewPrivileges = r.ReadBoolean();
        var terminal = r.ReadBoolean();
        var seccomp = r.ReadBytes(r.ReadInt32());
        return new ProcessPlan
        {
            Args = args, Env = env, Cwd = cwd, Uid = uid, Gid = gid, AdditionalGids = groups,
            Umask = hasUmask ? umask : null, Capabilities = caps, Rlimits = rlimits,
            NoNewPrivileges = noNewPrivileges, Terminal = terminal, Seccomp = seccomp,
        };
    }

    private static uint? ReadOptionalUInt(BinaryReader r)
    {
        bool has = r.ReadBoolean();
        uint value = r.ReadUInt32();
        return has ? value : null;
    }

    private static void IdMap(BinaryWriter w, IdMap m)
    {
        w.Write(m.Inside);
        w.Write(m.Outside);
        w.Write(m.Count);
    }

    private static IdMap IdMap(BinaryReader r) => new(r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32());

    private static void List<T>(BinaryWriter w, IReadOnlyList<T> items, Action<BinaryWriter, T> write)
    {
        w.Write(items.Count);
        foreach (var item in items)
        {
            write(w, item);
        }
    }

    private static List<T> List<T>(BinaryReader r, Func<BinaryReader, T> read)
    {
        int count = r.ReadInt32();
        var items = new List<T>(count);
        for (int i = 0; i < count; i++)
        {
            items.Add(read(r));
        }
        return items;
    }

    private static void Optional<T>(BinaryWriter w, T? value, Action<BinaryWriter, T> write)
        where T : class
    {
        w.Write(value is not null);
        if (value is not null)
        {
            write(w, value);
        }
    }

    private static T? Optional<T>(BinaryReader r, Func<BinaryReader, T> read)
        where T : class => r.ReadBoolean() ? read(r) : null;

    private static void OptionalString(BinaryWriter w, string? value) => Optional(w, value, (w, s) => w.Write(s));

    private static string? OptionalString(BinaryReader r) => Optional(r, r => r.ReadString());
}

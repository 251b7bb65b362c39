using System.Diagnostics;
using InitOs.Init.Config;
using InitOs.Init.Devices;
using InitOs.Init.Storage;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// The raid phase: each [[raid]] array's members are found by the array UUID in their md
/// superblocks (InitOS reads them itself, as it reads filesystems' labels), waited for until all
/// the superblock counts are there, then assembled by mdadm as /dev/md/NAME. Past the wait with
/// some missing, the array starts degraded and the boot goes on with a warning (a mirror is
/// there to survive a dead disk); with none found, the boot fails naming the devices seen.
/// </summary>
public static class RaidTasks
{
    public static readonly IReadOnlyList<string> Modules = ["md_mod", "raid1"];

    public static bool HasArrays(BootContext context) => context.RequireSettings().Raid.Count > 0;

    public static void Assemble(BootContext context)
    {
        if (!File.Exists(StorageTool.Mdadm))
        {
            throw new BootException($"[[raid]] arrays need {StorageTool.Mdadm}, and this initramfs has none (`initos build initramfs` packs it when the config has [[raid]])");
        }
        ModuleTasks.LoadFor(context, Modules, "[[raid]] arrays");
        var tool = new StorageTool((context.Reaper ?? throw new InvalidOperationException("the boot has no reaper")).Run);
        foreach (var array in context.RequireSettings().Raid)
        {
            StorageStatus.Record(AssembleOne(context, tool, array));
        }
    }

    private static RaidArray AssembleOne(BootContext context, StorageTool tool, RaidConfig array)
    {
        var (members, expected) = WaitForMembers(context, array);
        var node = $"/dev/md/{array.Name}";
        var (exit, lines) = tool.Run($"mdadm-{array.Name}", [StorageTool.Mdadm, "--assemble", node, "--run", $"--uuid={array.Uuid}", .. members.Select(m => m.Path)]);
        if (exit is not { Exited: true, ExitCode: 0 } || !File.Exists(node))
        {
            throw new BootException($"raid {array.Name}: mdadm --assemble {exit}: {(lines.Count > 0 ? lines[^1] : null) ?? "no message"} (members {string.Join(", ", members.Select(m => m.Path))})");
        }
        var device = Path.GetFullPath(File.ResolveLinkTarget(node, returnFinalTarget: true)?.FullName ?? node);
        var recorded = new RaidArray(array.Name!, device, $"raid{members[0].Superblock.Level}", members.Count, expected, members.Select(m => m.Path).ToList());
        var assembled = StorageStatus.Now(recorded) ?? recorded;
        context.Log.Info($"raid: {node} is {assembled}");
        if (assembled.Degraded)
        {
            context.Log.Warn($"raid: {array.Name} runs DEGRADED: {assembled.Total - assembled.Active} of its {assembled.Total} members missing; the data has no second copy until a disk is added (mdadm --add {node} DISK)");
        }
        return assembled;
    }

    /// <summary>Members of the array seen so far; returns when all are there, or at the wait's end with at least one.</summary>
    private static (List<(string Path, MdSuperblock Superblock)> Members, int Expected) WaitForMembers(BootContext context, RaidConfig array)
    {
        var clock = Stopwatch.StartNew();
        var scanner = new BlockDeviceScanner();
        while (true)
        {
            var devices = scanner.Scan();
            var members = devices.Where(d => d.Filesystem is { Type: "linux_raid_member" })
                .Select(d => (d.DevicePath, Superblock: ReadSuperblock(d.DevicePath)))
                .Where(m => m.Superblock?.ArrayUuid == array.Uuid)
                .Select(m => (m.DevicePath, m.Superblock!))
                .ToList();
            int expected = members.Count == 0 ? 0 : members.Max(m => m.Item2.RaidDisks);
            if (members.Count > 0 && members.Count >= expected)
            {
                return (members, expected);
            }
            if (clock.Elapsed.TotalSeconds >= array.WaitSeconds)
            {
                if (members.Count == 0)
                {
                    throw new BootException($"raid {array.Name}: no member of array {array.Uuid} after {array.WaitSeconds} s; block devices seen: {(devices.Count == 0 ? "none" : string.Join(", ", devices.Select(d => $"{d.Name} ({d.Filesystem?.Type ?? "no filesystem"})")))}");
                }
                context.Log.Warn($"raid: {array.Name}: {members.Count} of {expected} members after {array.WaitSeconds} s ({string.Join(", ", members.Select(m => m.DevicePath))}); starting it degraded");
                return (members, expected);
            }
            Thread.Sleep(100);
        }
    }

    private static MdSuperblock? ReadSuperblock(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            return MdSuperblock.Read(stream);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

using System.Diagnostics;
using InitOs.Init.Storage;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// The lvm phase (after crypt, so a volume group may sit on an opened LUKS2 volume or an md
/// array): each [[lvm]] volume group is activated by Debian's lvm once its physical volumes are
/// there, its logical volumes becoming /dev/mapper/VG-LV (which root and data can name). No udev
/// and no daemons: udev sync and monitoring are off, device nodes come from libdevmapper.
/// </summary>
public static class LvmTasks
{
    /// <summary>Linear and striped mappings are dm_mod's own.</summary>
    public static readonly IReadOnlyList<string> Modules = ["dm_mod"];

    private const string NoUdev = "activation { udev_sync = 0 udev_rules = 0 monitoring = 0 } devices { obtain_device_list_from_udev = 0 } global { use_lvmpolld = 0 }";

    public static bool HasGroups(BootContext context) => context.RequireSettings().Lvm.Count > 0;

    public static void Activate(BootContext context)
    {
        if (!File.Exists(StorageTool.Lvm))
        {
            throw new BootException($"[[lvm]] volume groups need {StorageTool.Lvm}, and this initramfs has none (`initos build initramfs` packs it when the config has [[lvm]])");
        }
        ModuleTasks.LoadFor(context, Modules, "[[lvm]] volume groups");
        Directory.CreateDirectory("/run/lock/lvm");
        var tool = new StorageTool((context.Reaper ?? throw new InvalidOperationException("the boot has no reaper")).Run);
        foreach (var group in context.RequireSettings().Lvm)
        {
            var volumes = ActivateOne(context, tool, group.VolumeGroup!, TimeSpan.FromSeconds(group.WaitSeconds));
            StorageStatus.RecordGroup(group.VolumeGroup!, volumes);
            context.Log.Info($"lvm: volume group {group.VolumeGroup} active: {string.Join(", ", volumes)}");
        }
    }

    /// <summary>Activates the group once lvm finds it (its physical volumes may still be appearing); its logical volumes' /dev/mapper paths.</summary>
    private static List<string> ActivateOne(BootContext context, StorageTool tool, string group, TimeSpan wait)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (exit, lines) = tool.Run($"lvm-{group}", StorageTool.Lvm, "vgchange", "--config", NoUdev, "-ay", group);
            if (exit is { Exited: true, ExitCode: 0 })
            {
                var (_, names) = tool.Run($"lvs-{group}", StorageTool.Lvm, "lvs", "--config", NoUdev, "--noheadings", "-o", "lv_name", group);
                return names.Select(n => $"/dev/mapper/{group.Replace("-", "--", StringComparison.Ordinal)}-{n.Replace("-", "--", StringComparison.Ordinal)}").Where(File.Exists).ToList();
            }
            if (clock.Elapsed >= wait)
            {
                throw new BootException($"lvm: volume group {group} not activated after {wait.TotalSeconds:F0} s: {(lines.Count > 0 ? lines[^1] : null) ?? exit.ToString()}");
            }
            Thread.Sleep(250);
        }
    }
}

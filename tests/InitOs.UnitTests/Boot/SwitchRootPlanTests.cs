using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Init.Config;
using InitOs.Init.Logging;

namespace InitOs.UnitTests.Boot;

public sealed class SwitchRootPlanTests
{
    private static (BootContext, RecordingSystem) Setup(bool newRootIsMountPoint = true)
    {
        var system = new RecordingSystem();
        system.Files["/"] = RecordingSystem.Directory(1);
        system.Files["/sysroot"] = RecordingSystem.Directory(newRootIsMountPoint ? 2u : 1u);
        system.Files["/sysroot/sbin"] = RecordingSystem.Directory(2);
        system.Files["/sysroot/sbin/init"] = RecordingSystem.Executable(2);
        foreach (var dir in new[] { "/sysroot/dev", "/sysroot/proc", "/sysroot/sys" })
        {
            system.Files[dir] = RecordingSystem.Directory(2);
        }
        var context = new BootContext(BootLog.Instance, ["single"]) { Settings = new BootSettings { Init = "/sbin/init", InitArguments = ["single"] } };
        return (context, system);
    }

    [Fact]
    public void Moves_api_mounts_frees_the_initramfs_then_moves_chroots_and_execs()
    {
        var (context, system) = Setup();
        SwitchRootTasks.VerifyNewRoot(context, system);
        SwitchRootTasks.MoveApiMounts(context, system);
        SwitchRootTasks.FreeInitramfs(context, system);
        SwitchRootTasks.PrepareHandoff(context, system);
        Assert.NotNull(context.Handoff);
        context.Handoff!();
        Assert.Equal(
        [
            "mount /dev /sysroot/dev - Move",
            "mount /proc /sysroot/proc - Move",
            "mount /sys /sysroot/sys - Move",
            "umount /run Detach",            // the new root has no /run: ours is detached, not leaked
            "rm -rx /",
            "chdir /sysroot",
            "mount . / - Move",
            "chroot .",
            "chdir /",
            "stdio /dev/console",
            "exec /sbin/init single",
        ], system.Calls);
    }

    [Fact]
    public void Refuses_a_new_root_that_is_not_a_mount_point()
    {
        var (context, system) = Setup(newRootIsMountPoint: false);
        var e = Assert.Throws<BootException>(() => SwitchRootTasks.VerifyNewRoot(context, system));
        Assert.Contains("not a mount point", e.Message, StringComparison.Ordinal);
        Assert.Empty(system.Calls);
    }

    [Fact]
    public void Refuses_a_missing_init_before_anything_is_deleted()
    {
        var (context, system) = Setup();
        context.Settings = context.Settings! with { Init = "/sbin/nope" };
        var e = Assert.Throws<BootException>(() => SwitchRootTasks.VerifyNewRoot(context, system));
        Assert.Contains("/sbin/nope", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(system.Calls, c => c.StartsWith("rm", StringComparison.Ordinal));
    }

    [Fact]
    public void Early_mounts_are_a_table_in_dependency_order()
    {
        var system = new RecordingSystem();
        EarlyMounts.MountAll(system);
        var mounts = system.Calls.Where(c => c.StartsWith("mount", StringComparison.Ordinal)).Select(c => c.Split(' ')[2]).ToList();
        Assert.Equal(["/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/run"], mounts);
    }
}

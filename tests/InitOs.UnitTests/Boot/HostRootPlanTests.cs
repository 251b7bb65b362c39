using InitOs.Init.Boot;
using InitOs.Init.Boot.Tasks;
using InitOs.Init.Logging;

namespace InitOs.UnitTests.Boot;

public sealed class HostRootPlanTests
{
    [Fact]
    public void Leaving_rootfs_binds_it_moves_the_api_mounts_and_the_bind_onto_slash_then_chroots()
    {
        var system = new RecordingSystem();
        var context = new BootContext(BootLog.Instance, []);
        HostRootTasks.LeaveRootfs(context, system);
        HostRootTasks.MountCgroup2(context, system);
        HostRootTasks.ShareMounts(context, system);
        Assert.Equal(
        [
            "mkdir /.initos-root",
            "mount / /.initos-root - Bind",
            "mount /dev /.initos-root/dev - Move",
            "mount /proc /.initos-root/proc - Move",
            "mount /sys /.initos-root/sys - Move",
            "mount /run /.initos-root/run - Move",
            "chdir /.initos-root",
            "mount . / - Move",
            "chroot .",
            "chdir /",
            "rmdir /.initos-root",
            "mount cgroup2 /sys/fs/cgroup cgroup2 NoSuid, NoDev, NoExec nsdelegate",
            "mount  / - Recursive, Shared",
        ], system.Calls);
    }
}

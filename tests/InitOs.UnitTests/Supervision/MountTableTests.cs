using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.UnitTests.Supervision;

public sealed class MountTableTests
{
    [Fact]
    public void Parses_mountinfo_lines_with_optional_fields_and_escapes()
    {
        var entry = MountTable.Parse("36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:7 - ext4 /dev/vd\\134a rw,errors=continue");
        Assert.Equal(new MountEntry("/mnt/my disk", "ext4", "/dev/vd\\a"), entry);
    }

    [Fact]
    public void Reads_this_processes_mount_table_in_mount_order()
    {
        var mounts = MountTable.Read();
        Assert.NotEmpty(mounts);
        Assert.Contains(mounts, m => m.MountPoint == "/proc" && m.FsType == "proc");
    }

    [Theory]
    [InlineData("TERM", 15)]
    [InlineData("SIGUSR2", 12)]
    [InlineData("sigkill", 9)]
    [InlineData("10", 10)]
    [InlineData("NOPE", null)]
    [InlineData("0", null)]
    [InlineData("65", null)]
    public void Signal_names_and_numbers_parse(string text, int? expected) => Assert.Equal(expected, Signal.Parse(text));

    [Fact]
    public void Shutdown_signals_follow_busybox_init()
    {
        Assert.Equal(ShutdownKind.Reboot, ShutdownSignals.BySignal[Signal.Term]);
        Assert.Equal(ShutdownKind.Reboot, ShutdownSignals.BySignal[Signal.Int]);
        Assert.Equal(ShutdownKind.Halt, ShutdownSignals.BySignal[Signal.Usr1]);
        Assert.Equal(ShutdownKind.PowerOff, ShutdownSignals.BySignal[Signal.Usr2]);
        Assert.Equal(Signal.Usr2, ShutdownSignals.SignalFor(ShutdownKind.PowerOff));
    }
}

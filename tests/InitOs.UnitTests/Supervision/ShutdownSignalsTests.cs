using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.UnitTests.Supervision;

public sealed class ShutdownSignalsTests
{
    [Theory]
    [InlineData(ShutdownKind.Reboot, false, Signal.Term)]
    [InlineData(ShutdownKind.PowerOff, false, Signal.Usr2)]
    [InlineData(ShutdownKind.Halt, false, Signal.Usr1)]
    [InlineData(ShutdownKind.Reboot, true, Signal.RtMin + 5)]
    [InlineData(ShutdownKind.PowerOff, true, Signal.RtMin + 4)]
    [InlineData(ShutdownKind.Halt, true, Signal.RtMin + 3)]
    public void Systemd_gets_its_own_signals_and_every_other_pid1_busyboxs(ShutdownKind kind, bool systemd, int expected) =>
        Assert.Equal(expected, ShutdownSignals.SignalFor(kind, systemd));

    [Theory]
    [InlineData("systemd\n", true)]
    [InlineData("init\n", false)]
    [InlineData("systemd-shutdow\n", false)]
    public void Pid1_is_systemd_by_its_command_name(string comm, bool expected)
    {
        var proc = Directory.CreateTempSubdirectory("initos-proc-");
        try
        {
            Directory.CreateDirectory(Path.Combine(proc.FullName, "1"));
            File.WriteAllText(Path.Combine(proc.FullName, "1/comm"), comm);
            Assert.Equal(expected, ShutdownSignals.Pid1IsSystemd(proc.FullName));
        }
        finally
        {
            proc.Delete(recursive: true);
        }
    }

    [Fact]
    public void Systemds_signals_are_named_as_systemd_names_them() =>
        Assert.Equal("SIGRTMIN+5", Signal.Name(ShutdownSignals.SignalFor(ShutdownKind.Reboot, systemd: true)));
}

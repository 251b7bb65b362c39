using InitOs.Jails.Vm;

namespace InitOs.UnitTests.Jails;

/// <summary>The QMP reader of PID 1 against a hostile peer: garbage, wrong shapes, a reader gone under it.</summary>
public sealed class QmpEventsTests
{
    [Theory]
    [InlineData("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}}", VmEnd.GuestReboot)]
    [InlineData("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}", VmEnd.GuestPowerOff)]
    [InlineData("{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": \"host-qmp-quit\"}}", VmEnd.Host)]
    [InlineData("{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": 42}}", VmEnd.Host)]
    [InlineData("{\"event\": \"SHUTDOWN\", \"data\": \"not an object\"}", VmEnd.Host)]
    public void A_shutdown_event_says_how_the_vm_ended(string line, VmEnd expected) =>
        Assert.Equal(expected, QmpEvents.EndOf(line));

    [Theory]
    [InlineData("")]
    [InlineData("garbage \u0001\u00ff{{{")]
    [InlineData("{\"event\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("\"SHUTDOWN\"")]
    [InlineData("{\"event\": 7}")]
    [InlineData("{\"event\": \"STOP\"}")]
    [InlineData("{\"return\": {}}")]
    public void Anything_else_is_no_event_and_no_exception(string line) =>
        Assert.Null(QmpEvents.EndOf(line));

    [Fact]
    public void The_pump_skips_garbage_between_events_and_ends_quietly_when_its_reader_is_disposed()
    {
        var ends = new List<VmEnd>();
        var peer = "noise\n{bad json\n{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": \"guest-panic\"}}\n\u0000\u0001\n";
        Assert.Equal(2, QmpEvents.Pump(new StringReader(peer), ends.Add));
        Assert.Equal([VmEnd.GuestPanic], ends);

        var disposed = new StringReader("{\"event\": \"SHUTDOWN\"}\n");
        disposed.Dispose();
        Assert.Equal(0, QmpEvents.Pump(disposed, ends.Add));
        Assert.Equal(0, QmpEvents.Pump(new ThrowingReader(), ends.Add));
    }

    private sealed class ThrowingReader : TextReader
    {
        public override string ReadLine() => throw new InvalidOperationException("the socket went away mid-line");
    }
}

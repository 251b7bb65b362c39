using InitOs.Sidecar.Ssh;

namespace InitOs.UnitTests.Sidecar;

public sealed class SessionDrainTests
{
    [Fact]
    public void Sessions_are_the_dropbear_processes_under_the_sidecar_only()
    {
        var processes = new SessionDrain.ProcessEntry[]
        {
            new(1, 0, "systemd"), new(10, 1, "ld-linux-x86-64"), new(11, 10, "initos"), new(12, 11, "dropbear"), new(13, 12, "initos"),
            new(14, 11, "dropbear"), new(20, 1, "dropbear"), new(21, 10, "initos"),
        };
        Assert.Equal(2, SessionDrain.Sessions(processes, 10));
        Assert.Equal(0, SessionDrain.Sessions(processes, 21));
    }

    [Fact]
    public void A_stat_line_with_spaces_and_parentheses_in_the_name_parses()
    {
        Assert.Equal(new SessionDrain.ProcessEntry(204, 142, ".NET SigHandler"), SessionDrain.Parse(204, "204 (.NET SigHandler) S 142 142 142 0 -1"));
        Assert.Equal(new SessionDrain.ProcessEntry(7, 3, "a) (b"), SessionDrain.Parse(7, "7 (a) (b) R 3 7 7"));
        Assert.Null(SessionDrain.Parse(7, "garbage"));
        Assert.Contains(SessionDrain.Read("/proc"), p => p.Pid == Environment.ProcessId);
    }
}

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
    public void The_process_list_is_read_from_proc()
    {
        Assert.Contains(SessionDrain.Read("/proc"), p => p.Pid == Environment.ProcessId && p.ParentPid > 0);
    }
}

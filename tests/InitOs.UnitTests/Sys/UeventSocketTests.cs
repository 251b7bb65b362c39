using System.Text;
using InitOs.Sys.Netlink;

namespace InitOs.UnitTests.Sys;

public sealed class UeventSocketTests
{
    [Fact]
    public void A_kernel_event_is_read_as_its_fields_and_anything_else_as_none()
    {
        var message = Encoding.UTF8.GetBytes("add@/devices/pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0\0ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:04.0/usb1/1-1/1-1:1.0\0SUBSYSTEM=usb\0MODALIAS=usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00\0SEQNUM=1234\0");
        var fields = UeventSocket.Parse(message);
        Assert.Equal("add", fields["ACTION"]);
        Assert.Equal("usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00", fields["MODALIAS"]);
        Assert.Equal("usb", fields["SUBSYSTEM"]);

        Assert.Empty(UeventSocket.Parse(Encoding.UTF8.GetBytes("libudev\0\xfe\xed\xca\xfe")));
        Assert.Empty(UeventSocket.Parse([]));
    }

    /// <summary>The kernel's own event, asked for by writing "add" to a device's uevent file (as `udevadm trigger` does).</summary>
    [Fact]
    public async Task The_socket_receives_the_kernels_event_for_a_device()
    {
        using var socket = UeventSocket.Open();
        var received = Task.Run(() =>
        {
            while (socket.Receive() is { } fields)
            {
                if (fields.GetValueOrDefault("DEVPATH") == "/devices/virtual/mem/null" && fields.GetValueOrDefault("ACTION") == "add")
                {
                    return fields;
                }
            }
            return null;
        });
        File.WriteAllText("/sys/devices/virtual/mem/null/uevent", "add");
        Assert.Same(received, await Task.WhenAny(received, Task.Delay(TimeSpan.FromSeconds(10))));
        var fields = await received;
        Assert.Equal("mem", fields!["SUBSYSTEM"]);
        Assert.Equal("null", fields["DEVNAME"]);
    }
}

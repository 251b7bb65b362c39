using InitOs.Sidecar.Ssh;

namespace InitOs.UnitTests.Sidecar;

public sealed class AdminInterfacesTests : IDisposable
{
    private readonly DirectoryInfo _sys = Directory.CreateTempSubdirectory("initos-sysclassnet-");

    public AdminInterfacesTests()
    {
        // As /sys/class/net looks: a card has a device link; lo, the jails' bridge and veths do not.
        foreach (var name in new[] { "lo", "initos0", "vj1a2b3c", "enp1s0", "eth1" })
        {
            Directory.CreateDirectory(Path.Combine(_sys.FullName, name));
        }
        Directory.CreateDirectory(Path.Combine(_sys.FullName, "enp1s0", "device"));
        Directory.CreateDirectory(Path.Combine(_sys.FullName, "eth1", "device"));
    }

    public void Dispose() => _sys.Delete(recursive: true);

    [Fact]
    public void Unnamed_means_every_network_card_and_never_lo_the_jails_bridge_or_a_veth() =>
        Assert.Equal(["enp1s0", "eth1"], AdminInterfaces.Present([], _sys.FullName));

    [Fact]
    public void Named_ones_count_once_they_are_there() =>
        Assert.Equal(["eth1", "lo"], AdminInterfaces.Present(["lo", "eth1", "bond0"], _sys.FullName));
}

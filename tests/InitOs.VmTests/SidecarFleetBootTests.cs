using InitOs.Admin;
using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The sidecar across boots and machines: host keys kept on the data volume are the same after
/// a reboot (the pinned key is still trusted), an admin key from the kernel command line logs in
/// when the config allows it, and `initos fleet`'s runner reaches three guests at once.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class SidecarFleetBootTests : IDisposable
{
    private readonly BootImages _images;
    private readonly TempDirectory _keys = new("initos-fleet-keys-");

    public SidecarFleetBootTests(BootImages images) => _images = images;

    public void Dispose() => _keys.Dispose();

    [Fact]
    public void Host_keys_on_the_data_volume_survive_a_reboot_and_a_fleet_of_three_answers()
    {
        var key = _keys.File("admin");
        SidecarSshBootTests.NewKey(key);
        var initramfs = Initramfs();
        var data = _images.Scratch("fleet-data.img");
        Tool.Run("truncate", "-s", "64M", data);
        Tool.Run("mkfs.ext4", "-q", "-L", "initos-data", data);
        var knownHosts = new KnownHosts(_keys.File("known_hosts"));
        var client = new AdminClient(key, knownHosts, TimeSpan.FromSeconds(60));
        var append = $"console=ttyS0 panic=-1 quiet initos.data=LABEL=initos-data initos.ssh_key=\"{File.ReadAllText(key + ".pub").Trim()}\"";

        int firstPort = SidecarSshBootTests.FreePort();
        using (var first = Boot("first-boot", initramfs, append, firstPort, data))
        {
            first.Expect(@"data: /dev/vda on /run/initos/data \(ext4, rw, noexec\)");
            first.Expect("service sshd: started");
            var status = AdminSessions.RunWhenUp(client, new AdminTarget("127.0.0.1", firstPort), "status");
            Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
            Assert.Contains("/run/initos/data ext4 /dev/vda", status.Output, StringComparison.Ordinal);
            Assert.True(client.Run(new AdminTarget("127.0.0.1", firstPort), "reboot").Succeeded);
            first.Expect("shutdown: rebooting");
            first.ExpectExit();
        }
        var pinned = Assert.Single(File.ReadAllLines(knownHosts.Path));
        Assert.DoesNotContain("PRIVATE KEY", LogOf("first-boot"), StringComparison.Ordinal);

        // The same data volume on the next boot, with the key pinned under a new port: rewrite
        // the pin for that port, so a changed host key would be refused.
        int[] ports = [SidecarSshBootTests.FreePort(), SidecarSshBootTests.FreePort(), SidecarSshBootTests.FreePort()];
        File.WriteAllText(knownHosts.Path, pinned.Replace($"127.0.0.1:{firstPort} ", $"127.0.0.1:{ports[0]} ", StringComparison.Ordinal) + "\n");
        using var again = Boot("second-boot", initramfs, append, ports[0], data);
        using var other = Boot("second-guest", initramfs, append.Replace(" initos.data=LABEL=initos-data", "", StringComparison.Ordinal), ports[1]);
        using var third = Boot("third-guest", initramfs, append.Replace(" initos.data=LABEL=initos-data", "", StringComparison.Ordinal), ports[2]);
        foreach (var vm in new[] { again, other, third })
        {
            vm.Expect("service sshd: started", TimeSpan.FromSeconds(240));
        }
        var hosts = _keys.File("hosts");
        File.WriteAllLines(hosts, ports.Select(p => $"127.0.0.1:{p}"));
        var results = Fleet.Run(Fleet.ReadHosts(hosts), 3, t => AdminSessions.RunWhenUp(client, t, "status"));
        var table = Fleet.Table(results);
        Assert.True(results.All(r => r.Succeeded), table + "\n" + string.Join("\n", results.Select(r => r.Error)));
        Assert.Equal(5, table.Split('\n').Length);
        Assert.EndsWith("3 of 3 hosts succeeded", table, StringComparison.Ordinal);
        // The rebooted guest's key is the one pinned before the reboot (a changed one is refused).
        Assert.Contains(pinned[pinned.IndexOf(' ', StringComparison.Ordinal)..], File.ReadAllText(knownHosts.Path), StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(knownHosts.Path).Length);
    }

    private string Initramfs() => _images.InitramfsWith("fleet", GuestConfig.Pid1("""
        [network]
        mode = "dhcp"

        [sidecar]
        ssh = true
        cmdline_keys = true
        """, modules: "include = [\"virtio_pci\", \"virtio_net\", \"virtio_blk\", \"ext4\"]"));

    private readonly Dictionary<string, VmBoot> _boots = [];

    private VmBoot Boot(string name, string initramfs, string append, int port, params string[] disks)
    {
        var vm = new VmBoot($"{nameof(SidecarFleetBootTests)}-{name}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = disks,
            Append = append,
            Network = true,
            HostForwards = [(port, 22)],
        });
        _boots[name] = vm;
        return vm;
    }

    private string LogOf(string name) => _boots[name].Session.Log;
}

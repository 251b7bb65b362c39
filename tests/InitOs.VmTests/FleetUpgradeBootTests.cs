using InitOs.Admin;
using InitOs.Admin.Rollouts;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Qemu;
using InitOs.Sidecar.Registry;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The whole path of a rollout on two machines under OVMF with Secure Boot and systemd-boot:
/// 2.0 pushed to a registry on the workstation, each machine told by the rollout to fetch it
/// (through QEMU's 10.0.2.2), staged, rebooted into its trial, judged by its own sidecar and
/// blessed; the second machine only after the first (waves 50, 100%). Host keys on each
/// machine's data volume stay the same across the reboot, so the rollout's pins hold.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class FleetUpgradeBootTests
{
    private readonly BootImages _images;
    private readonly UpgradeImages _upgrade;

    public FleetUpgradeBootTests(BootImages images)
    {
        _images = images;
        _upgrade = new UpgradeImages(images);
    }

    [Fact]
    public void Two_machines_fetch_2_0_from_a_registry_reboot_into_it_and_are_blessed_one_wave_after_the_other()
    {
        var v1 = Uki("1.0");
        var bundle = _upgrade.Bundle("2.0", Uki("2.0"));
        using var registry = new LocalRegistry();
        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new RegistryOptions { PlainHttpHosts = ["127.0.0.1"] }))
        {
            BundlePush.Push(bundle, ImageReference.Parse($"{registry.Address}/initos/fleet:2.0"), workstation);
        }
        // The same registry as the machines reach it: the host's loopback through QEMU's user network.
        var reference = $"10.0.2.2:{registry.Port}/initos/fleet:2.0";

        string[] names = ["fleet-a", "fleet-b"];
        var vars = names.Select(_ => VarsCopy.Of(UefiFirmware.SnakeoilVars)).ToList();
        var ports = names.Select(_ => SidecarSshBootTests.FreePort()).ToList();
        var machines = new List<VmBoot>();
        try
        {
            for (int i = 0; i < names.Length; i++)
            {
                machines.Add(Boot(names[i], _upgrade.Disk($"{names[i]}.img", v1), DataVolume(names[i]), vars[i].Path, ports[i]));
            }
            foreach (var machine in machines)
            {
                machine.Expect(@"upgrade: running 1\.0, a good version \(initos-1\.0\.efi\)", UpgradeImages.FirmwareTimeout);
            }
            var client = new AdminClient(_upgrade.SshKey("admin"), new KnownHosts(_images.Scratch($"fleet-known-hosts-{Guid.NewGuid():N}")), TimeSpan.FromSeconds(120));
            var hosts = ports.Select(p => new RolloutHost(new AdminTarget("127.0.0.1", p))).ToList();
            foreach (var host in hosts)
            {
                var status = AdminSessions.RunWhenUp(client, host.Target, "upgrade status");
                Assert.True(status.Succeeded, status.ToString());
            }

            var log = new List<string>();
            var upgrader = new AdminUpgrader(client, reference, "2.0", waitForBlessing: true, TimeSpan.FromSeconds(600));
            var state = new Rollout(new RolloutOptions(reference, "50,100%", MaxParallel: 2, HaltAfter: 1), new SystemClock(), upgrader.Upgrade, line => { lock (log) { log.Add(line); } })
                .Run(hosts, _images.Scratch($"fleet-rollout-{Guid.NewGuid():N}.json"));

            var report = string.Join('\n', log) + "\n" + state.Table();
            Assert.True(state.Hosts.All(h => h.State == HostState.Upgraded && h.Version == "2.0"), report);
            Assert.True(state.Hosts[1].Started >= state.Hosts[0].Finished, $"the second wave started before the first ended\n{report}");
            foreach (var machine in machines)
            {
                machine.Expect($@"upgrade: fetching {System.Text.RegularExpressions.Regex.Escape(reference)}");
                machine.Expect(@"upgrade: trial boot of 2\.0 \(initos-2\.0\+1-1\.efi", UpgradeImages.FirmwareTimeout);
                machine.Expect(@"upgrade: verdict on 2\.0: good at [\d.]+ s after the boot; blessed \(initos-2\.0\.efi\)", UpgradeImages.FirmwareTimeout);
            }
            foreach (var host in hosts)
            {
                var status = client.Run(host.Target, "upgrade status");
                Assert.True(status.Succeeded, status.ToString());
                Assert.Contains("running 2.0 (good)", status.Output, StringComparison.Ordinal);
            }
        }
        finally
        {
            machines.ForEach(m => m.Dispose());
            vars.ForEach(v => v.Dispose());
        }
    }

    /// <summary>A UKI of <paramref name="version"/>: DHCP, the admin door, a data volume (where the host keys stay), upgrades from the host's registry over plain HTTP.</summary>
    private string Uki(string version)
    {
        var toml = GuestConfig.Pid1(
            GuestConfig.DhcpAndSidecar(_upgrade.SshKey("admin") + ".pub") + "\n[data]\ndevice = \"LABEL=initos-data\"\n\n" +
            _upgrade.UpgradeTable(version, settleSeconds: 3, deadlineSeconds: 180) + "registry_plain_http = [\"10.0.2.2\"]\n",
            modules: "load = []\ninclude = [\"virtio_pci\", \"virtio_net\", \"virtio_blk\", \"ext4\"]\ncoldplug = true");
        return _upgrade.SignedUki(_images.Scratch($"fleet-{version}.efi"), version, toml, "console=ttyS0 panic=-1");
    }

    private string DataVolume(string name)
    {
        var data = _images.Scratch($"{name}-data.img");
        File.Delete(data);
        Tool.Run("truncate", "-s", "64M", data);
        Tool.Run("mkfs.ext4", "-q", "-L", "initos-data", data);
        return data;
    }

    private static VmBoot Boot(string name, string disk, string data, string vars, int port) =>
        new(name, new QemuOptions
        {
            Uefi = new UefiFirmware(UefiFirmware.SecureBootCode, vars, SecureBoot: true),
            Disks = [disk, data],
            Network = true,
            HostForwards = [(port, 22)],
            NoReboot = false,
            ExtraArguments = ["-device", "i6300esb"],
        });
}

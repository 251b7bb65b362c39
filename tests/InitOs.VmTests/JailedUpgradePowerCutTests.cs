using System.Text.RegularExpressions;
using InitOs.Admin;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// The power cut at the durable steps of a jailed OS's upgrade (mode privileged, the OS on the
/// data volume): `upgrade apply --hold-at K [--torn]` of a new version, QEMU killed there, the
/// machine booted again from the same disks. Each time the OS must come up on a verified image,
/// the good one or the new one on trial (which the boot's judge then rules on), and the next
/// apply must succeed. One machine throughout: the boot after a cut is the one the next cut
/// starts from. `make test` cuts at a sample (a torn write into the image, the pointer's
/// rename); `make slow-test` at every step of staging and blessing, and in every write.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class JailedUpgradePowerCutTests
{
    private const string MachineClass = "qemu-jail-cut";

    private readonly BootImages _images;

    public JailedUpgradePowerCutTests(BootImages images) => _images = images;

    [Fact]
    public void A_power_cut_in_a_write_of_the_image_or_before_the_pointer_is_renamed_leaves_a_machine_on_a_verified_image()
    {
        var image = Image("2.0");
        // Staging: the image (create, a write per MiB, fsync, rename and its fsync, directory), its proof, the pointer (five each).
        int staging = 1 + Writes(image) + 4 + 5 + 5;
        Sweep([(2, true, @"write \d+ bytes at 0 of /run/initos/data/images/\.os@{V}\.partial"), (staging - 1, false, @"rename /run/initos/data/images/\.os\.current\.partial → /run/initos/data/images/os\.current")]);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_power_cut_at_every_step_and_in_every_write_of_a_jailed_os_upgrade_leaves_a_machine_on_a_verified_image()
    {
        int writes = Writes(Image("2.0"));
        // Staging, then blessing: the pointer (five steps); nothing older to prune on the way.
        int steps = 1 + writes + 4 + 5 + 5 + 5;
        var points = Enumerable.Range(1, steps).Select(k => (k, false, (string?)null)).Concat(Enumerable.Range(2, writes).Select(k => (k, true, (string?)null))).ToList();
        Sweep(points);
    }

    private static int Writes(string image) => (int)((new FileInfo(image).Length + (1 << 20) - 1) >> 20);

    /// <summary>Cuts at each point in turn, each with a newer version; then an apply without a cut is blessed.</summary>
    /// <param name="points">Each cut: the step, torn or not, and (for a sample) what that step must be: a pattern, {V} standing for the version.</param>
    private void Sweep(IReadOnlyList<(int Step, bool Torn, string? What)> points)
    {
        using var baseTree = new TempDirectory("initos-cut-os-base-");
        JailedUpgradeBootTests.Tree(baseTree.Path, "1.0", serves: false);
        var data = _images.Scratch($"jailed-cut-data-{Guid.NewGuid():N}.img");
        var report = DataVolume.Create(new DataVolume.Spec { SizeMiB = 256, Images = new Dictionary<string, string> { ["os"] = baseTree.Path } }, data);
        var initramfs = Initramfs(report.ImageDigests["os"]);
        using var keys = new TempDirectory("initos-cut-known-");
        var vm = Boot("first", initramfs, data, out var target);
        try
        {
            vm.Expect("OS-VERSION=1.0 start=1");
            string good = "1.0";
            int survived = 0;
            for (int i = 0; i < points.Count; i++)
            {
                var (k, torn, what) = points[i];
                var version = $"{i + 2}.0";
                var bundle = Bundle(version);
                var client = Client(keys);
                Assert.True(AdminSessions.RunWhenUp(client, target, "upgrade status").Succeeded);
                // The session holds for good; it ends with the machine.
                _ = Task.Run(() => UpgradeImages.Apply(client, target, $"upgrade apply --hold-at {k}{(torn ? " --torn" : "")}", bundle));
                if (what is not null)
                {
                    vm.Expect($"upgrade: step {k}: {what.Replace("{V}", Regex.Escape(version), StringComparison.Ordinal)}", TimeSpan.FromSeconds(120));
                }
                vm.Expect(torn ? $@"upgrade: holding in step {k}, half of its bytes written" : $@"upgrade: holding before step {k} ", TimeSpan.FromSeconds(120));
                vm.Dispose();
                vm = Boot($"after-{k}{(torn ? "-torn" : "")}", initramfs, data, out target);
                var came = vm.Expect(@"OS-VERSION=(?<v>\d+\.0) start=1").Groups["v"].Value;
                Assert.True(came == good || came == version, $"after a cut {(torn ? "in" : "before")} step {k} of {version}'s upgrade the OS came up on {came}, neither the good {good} nor {version}");
                if (came == version)
                {
                    vm.Expect($@"verdict on os@{Regex.Escape(version)}: good; blessed");
                    good = version;
                }
                survived++;
                Console.WriteLine($"jailed upgrade power cut {(torn ? "in" : "before")} step {k} of {version}: came up on os {came}{(came == version ? " (trial, then blessed)" : "")}");
            }
            Console.WriteLine($"jailed upgrade power cuts: {points.Count} cut points, {survived} survived");
            var last = $"{points.Count + 2}.0";
            var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(Client(keys), target, "upgrade apply", Bundle(last)));
            Assert.True(applied.Succeeded, applied.ToString());
            Assert.Contains($"upgrade: verdict on os@{last}: good; blessed", applied.Output, StringComparison.Ordinal);
        }
        finally
        {
            vm.Dispose();
            File.Delete(data);
        }
    }

    /// <summary>A boot of the machine; its console log is kept under its own <paramref name="name"/>.</summary>
    private VmBoot Boot(string name, string initramfs, string data, out AdminTarget target)
    {
        int port = SidecarSshBootTests.FreePort();
        target = new AdminTarget("127.0.0.1", port);
        return new VmBoot($"{nameof(JailedUpgradePowerCutTests)}-{name}", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = "console=ttyS0,115200 panic=-1",
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
            NoReboot = true,
        });
    }

    private AdminClient Client(TempDirectory keys) =>
        new(Key("admin"), new KnownHosts(keys.File("known_hosts")), TimeSpan.FromSeconds(120));

    private string Initramfs(string directoryDigest) =>
        _images.InitramfsWith("jailed-cut", GuestConfig.Pid1($$"""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            image_digest = "{{directoryDigest}}"
            network = "host"

            [upgrade]
            keys = ["{{File.ReadAllText(Key("release") + ".pub").Trim()}}"]
            compatible = "{{MachineClass}}"
            min_version = "1.0"
            version = "1.0"
            tries = 2
            settle_seconds = 3
            deadline_seconds = 30

            """ + GuestConfig.DhcpAndSidecar(Key("admin") + ".pub"),
            modules: "load = [\"virtio_blk\", \"btrfs\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"overlay\"]",
            mode: "privileged"));

    private string Key(string name)
    {
        var path = _images.Scratch($"jailed-cut-{name}");
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    private string Image(string version)
    {
        var image = _images.Scratch($"jailed-cut-{version}.squashfs");
        if (!File.Exists(image))
        {
            using var tree = new TempDirectory("initos-cut-os-");
            JailedUpgradeBootTests.Tree(tree.Path, version, serves: false);
            OsImageFile.Squashfs(tree.Path, image);
        }
        return image;
    }

    private string Bundle(string version)
    {
        var output = _images.Scratch($"jailed-cut-{version}.bundle.tar");
        if (!File.Exists(output))
        {
            BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", null, [new("os", Image(version))], Key("release")), output);
        }
        return output;
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using InitOs.Admin;
using InitOs.ImageBuild.Bundle;
using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A jailed OS upgraded without a host reboot (mode privileged): the machine boots its OS from
/// the data volume's directory image (1.0); a bundle with a squashfs OS image 2.0 is applied
/// over ssh: staged on the data volume, the OS stopped and started on it, judged by the sidecar
/// (the OS up, a command probe run in the jail exiting 0, its HTTP probe answering) and
/// blessed; a bundle 3.0 whose OS runs no web server fails the command probe, is judged bad at the deadline and the OS is back on 2.0 within 10 s; a 3.1 whose image
/// has no init is dropped by PID 1 at its first start. One boot of the host throughout.
/// </summary>
[Collection(BootCollection.Name)]
public sealed class JailedUpgradeBootTests
{
    private const string MachineClass = "qemu-jail";

    private readonly BootImages _images;

    public JailedUpgradeBootTests(BootImages images) => _images = images;

    private string Key(string name)
    {
        var path = _images.Scratch($"jailed-upgrade-{name}");
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    /// <summary>The default OS that says its version at each start and, when <paramref name="serves"/>, answers HTTP on port 8080.</summary>
    internal static void Tree(string directory, string version, bool serves, bool init = true)
    {
        var inittab = "::once:/etc/announce\n" + (serves ? "::respawn:/usr/sbin/httpd -f -p 8080 -h /www\n" : "") + DefaultRootfs.Inittab + "\n";
        DefaultRootfs.Stage(directory, extras:
        [
            new DefaultRootfs.ExtraFile("etc/announce", $"#!/bin/sh\necho \"OS-VERSION={version} start=$INITOS_JAIL_STARTS uid_map=$(cat /proc/self/uid_map)\"\n"),
            new DefaultRootfs.ExtraFile("etc/inittab", inittab, 0x1A4),
            new DefaultRootfs.ExtraFile("www/index.html", $"os {version}\n", 0x1A4),
        ]);
        if (!init)
        {
            File.Delete(Path.Combine(directory, "sbin/init"));
        }
    }

    private string Bundle(string version, bool serves, bool init = true)
    {
        var output = _images.Scratch($"jailed-upgrade-{version}.bundle.tar");
        using var tree = new TempDirectory("initos-jailed-os-");
        Tree(tree.Path, version, serves, init);
        var image = _images.Scratch($"jailed-upgrade-{version}.squashfs");
        OsImageFile.Squashfs(tree.Path, image);
        BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", null, [new("os", image)], Key("release")), output);
        return output;
    }

    /// <summary>
    /// An unprivileged jailed OS (its own user namespace, its lower layer mounted idmapped): a
    /// squashfs image is refused once its bytes are proven and before anything points at it
    /// (Linux 6.1 cannot mount squashfs idmapped); an ext4 image is staged, mounted read-only,
    /// idmapped into the jail, judged and blessed, and the OS runs on it unprivileged.
    /// </summary>
    [Fact]
    public void An_unprivileged_jailed_os_runs_an_ext4_image_idmapped_and_refuses_a_squashfs_one()
    {
        using var baseTree = new TempDirectory("initos-jailed-os-base-");
        Tree(baseTree.Path, "1.0", serves: true);
        var data = _images.Scratch("jailed-upgrade-unprivileged-data.img");
        var report = DataVolume.Create(new DataVolume.Spec { SizeMiB = 256, Images = new Dictionary<string, string> { ["os"] = baseTree.Path } }, data);
        var initramfs = _images.InitramfsWith("jailed-upgrade-unprivileged", GuestConfig.Pid1($$"""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            image_digest = "{{report.ImageDigests["os"]}}"
            network = "none"

            [upgrade]
            keys = ["{{File.ReadAllText(Key("release") + ".pub").Trim()}}"]
            compatible = "{{MachineClass}}"
            min_version = "1.0"
            version = "1.0"
            tries = 2
            settle_seconds = 3
            deadline_seconds = 30

            [[upgrade.probe]]
            command = "pidof httpd"

            """ + GuestConfig.DhcpAndSidecar(Key("admin") + ".pub"),
            modules: "load = [\"virtio_blk\", \"btrfs\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"overlay\"]",
            mode: "unprivileged"));
        var squashfs = Bundle("2.0", serves: true);
        var ext4 = Ext4Bundle("2.1");
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot($"{nameof(JailedUpgradeBootTests)}-unprivileged", new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = "console=ttyS0,115200 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
            NoReboot = false,
        });
        using var keys = new TempDirectory("initos-jailed-upgrade-known-");
        var client = new AdminClient(Key("admin"), new KnownHosts(keys.File("known_hosts")), TimeSpan.FromSeconds(120));
        var target = new AdminTarget("127.0.0.1", port);
        vm.Expect(@"OS-VERSION=1\.0 start=1 uid_map=\s*0\s+\d+\s+65536");

        var refused = AdminSessions.WhenUp(() => UpgradeImages.Apply(client, target, "upgrade apply", squashfs));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused: os-image os: a squashfs image, and the jailed OS runs unprivileged: its lower layer is mounted idmapped, which Linux 6.1 allows on ext4 only", refused.Error, StringComparison.Ordinal);
        var before = client.Run(target, "upgrade status --json");
        Assert.True(before.Succeeded, before.ToString());
        using (var json = System.Text.Json.JsonDocument.Parse(before.Output))
        {
            Assert.Empty(json.RootElement.GetProperty("os_images").GetProperty("images").EnumerateArray());
        }

        var applied = UpgradeImages.Apply(client, target, "upgrade apply", ext4);
        Assert.True(applied.Succeeded, applied.ToString());
        Assert.Contains("upgrade: verdict on os@2.1: good; blessed", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"os: image os@2\.1 \(ext4, sha256:[0-9a-f]{12}…, signed by SHA256:\S+\) proven and mounted on /run/initos/os/lower/os@2\.1");
        var inside = vm.Expect(@"OS-VERSION=2\.1 start=2 uid_map=\s*0\s+(?<host>\d+)\s+65536");
        Assert.True(long.Parse(inside.Groups["host"].Value, CultureInfo.InvariantCulture) >= 65536, inside.Value);
        Assert.Equal(1, Regex.Count(vm.Session.Log, "starting as PID 1"));
    }

    /// <summary>A bundle whose OS image is ext4 (what an unprivileged jail can mount idmapped).</summary>
    private string Ext4Bundle(string version)
    {
        var output = _images.Scratch($"jailed-upgrade-{version}-ext4.bundle.tar");
        using var tree = new TempDirectory("initos-jailed-os-");
        Tree(tree.Path, version, serves: true);
        var image = _images.Scratch($"jailed-upgrade-{version}.ext4");
        FilesystemImage.CreateExt4(tree.Path, image, new FilesystemImage.Ext4Options("os"));
        BundleWriter.Write(new BundleSpec(version, MachineClass, "1.0", null, [new("os", image)], Key("release")), output);
        return output;
    }

    [Fact]
    public void A_jailed_os_is_upgraded_blessed_and_rolled_back_without_a_host_reboot()
    {
        using var baseTree = new TempDirectory("initos-jailed-os-base-");
        Tree(baseTree.Path, "1.0", serves: true);
        // 5.0 comes from a registry over HTTPS: Debian's docker-registry on the host, which QEMU's user
        // network shows the guest as 10.0.2.2, with a certificate of a test CA that the signed config names.
        using var tls = new TempDirectory("initos-registry-ca-");
        var certificates = new TestCertificates(tls.Path);
        var (certificate, certificateKey) = certificates.Server("registry", "127.0.0.1", "10.0.2.2");
        using var registry = new LocalRegistry(certificate, certificateKey);
        var ca = File.ReadAllText(certificates.Ca);
        var data = _images.Scratch("jailed-upgrade-data.img");
        var report = DataVolume.Create(new DataVolume.Spec { SizeMiB = 256, Images = new Dictionary<string, string> { ["os"] = baseTree.Path } }, data);
        var initramfs = _images.InitramfsWith("jailed-upgrade", GuestConfig.Pid1($$""""
            [data]
            device = "LABEL=initos-data"

            [os]
            image = "os"
            image_digest = "{{report.ImageDigests["os"]}}"
            network = "host"

            [upgrade]
            keys = ["{{File.ReadAllText(Key("release") + ".pub").Trim()}}"]
            compatible = "{{MachineClass}}"
            min_version = "1.0"
            version = "1.0"
            tries = 2
            settle_seconds = 3
            deadline_seconds = 30
            registry = "10.0.2.2:{{registry.Port}}/initos/os"
            registry_ca = """
            {{ca.Trim()}}
            """

            [[upgrade.probe]]
            command = "pidof httpd"

            [[upgrade.probe]]
            http = "http://127.0.0.1:8080/"

            """" + GuestConfig.DhcpAndSidecar(Key("admin") + ".pub"),
            modules: "load = [\"virtio_blk\", \"btrfs\"]\ninclude = [\"virtio_pci\", \"virtio_net\", \"overlay\"]",
            mode: "privileged"));
        var v2 = Bundle("2.0", serves: true);
        var v3 = Bundle("3.0", serves: false);
        var v31 = Bundle("3.1", serves: true, init: false);
        var v4 = Bundle("4.0", serves: true);
        var v5 = Bundle("5.0", serves: true);
        int port = SidecarSshBootTests.FreePort();
        using var vm = new VmBoot(nameof(JailedUpgradeBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = initramfs,
            Disks = [data],
            Append = "console=ttyS0,115200 panic=-1 quiet",
            Network = true,
            HostForwards = [(port, 22)],
            MemoryMiB = 768,
            NoReboot = false,
        });
        using var keys = new TempDirectory("initos-jailed-upgrade-known-");
        var client = new AdminClient(Key("admin"), new KnownHosts(keys.File("known_hosts")), TimeSpan.FromSeconds(120));
        var target = new AdminTarget("127.0.0.1", port);
        vm.Expect("OS-VERSION=1.0 start=1");

        var applied = AdminSessions.WhenUp(() => UpgradeImages.Apply(client, target, "upgrade apply", v2));
        Assert.True(applied.Succeeded, $"{applied.ExitCode}: {applied.Output} {applied.Error}");
        Assert.Contains("upgrade: os@2.0 staged on the data volume (2 starts to prove itself)", applied.Output, StringComparison.Ordinal);
        // The sidecar hashes with the kernel's SHA-256 (AF_ALG; its modules are packed and loaded whenever upgrades are on).
        Assert.Contains("os-image os: ", applied.Output, StringComparison.Ordinal);
        Assert.Contains("digest good (SHA-256: the kernel's (AF_ALG))", applied.Output, StringComparison.Ordinal);
        // The image, its proof and the pointer: the bytes written are the image's and a few kilobytes more.
        var written = long.Parse(Regex.Match(applied.Output, @"(?<n>\d+) bytes written").Groups["n"].Value, CultureInfo.InvariantCulture);
        long imageBytes = new FileInfo(_images.Scratch("jailed-upgrade-2.0.squashfs")).Length;
        Assert.InRange(written, imageBytes + 1000, imageBytes + 16384);
        Console.WriteLine($"jailed upgrade: {written} bytes written for an image of {imageBytes}");
        Assert.Contains("upgrade: verdict on os@2.0: good; blessed", applied.Output, StringComparison.Ordinal);
        vm.Expect(@"os: image os@2\.0 \(squashfs, sha256:[0-9a-f]{12}…, signed by SHA256:\S+\) proven and mounted on /run/initos/os/lower/os@2\.0");
        vm.Expect("OS-VERSION=2.0 start=2");

        var bad = UpgradeImages.Apply(client, target, "upgrade apply", v3);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("verdict on os@3.0: bad: not healthy 30 s after the OS's restart: probe command 'pidof httpd': exited 1; rolling back to os@2.0", bad.Output, StringComparison.Ordinal);
        var back = Regex.Match(bad.Output, @"back on os@2\.0 (?<s>[\d.]+) s after the verdict; os@3\.0 removed");
        Assert.True(back.Success, bad.Output);
        Assert.True(double.Parse(back.Groups["s"].Value, CultureInfo.InvariantCulture) < 10, back.Value);
        vm.Expect("OS-VERSION=3.0 start=3");
        vm.Expect("OS-VERSION=2.0 start=4");

        var noInit = UpgradeImages.Apply(client, target, "upgrade apply", v31);
        Assert.Equal(1, noInit.ExitCode);
        Assert.Contains("verdict on os@3.1: bad: the OS did not start on os@3.1 (os@2.0 runs", noInit.Output, StringComparison.Ordinal);
        vm.Expect(@"os: the trial os@3\.1 cannot run: init /sbin/init is not an executable file in the OS image /run/initos/os/lower/os@3\.1.*; dropped, back to os@2\.0");

        var status = client.Run(target, "upgrade status --json");
        Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
        using var json = System.Text.Json.JsonDocument.Parse(status.Output);
        var images = json.RootElement.GetProperty("os_images");
        Assert.Equal("os@2.0", images.GetProperty("running").GetString());
        Assert.Equal("os@2.0", images.GetProperty("good").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, images.GetProperty("trial").ValueKind);
        Assert.Equal(["os@2.0"], images.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image").GetString() ?? "").ToArray());

        // The host never restarted: one PID 1 start, one boot; each image let go once the OS moved off it.
        Assert.Equal(1, Regex.Count(vm.Session.Log, "starting as PID 1"));
        Assert.DoesNotContain("stays mounted", vm.Session.Log, StringComparison.Ordinal);

        TheHostGoingDownDuringATrialSpendsOneStartAndTheBootsJudgeRules(vm, client, target, v4);
        AnUpgradeFetchedFromARegistryIsJudgedTheSameWay(vm, client, target, registry, ca, v5);
    }

    /// <summary>
    /// 5.0 pushed to the registry from the workstation, then `upgrade apply --from 5.0`: the
    /// sidecar fetches it over HTTPS (its own HTTP client, OpenSSL packed because the config names
    /// a CA), the same reader proves it, the same judge blesses it.
    /// </summary>
    private static void AnUpgradeFetchedFromARegistryIsJudgedTheSameWay(VmBoot vm, AdminClient client, AdminTarget target, LocalRegistry registry, string ca, string bundle)
    {
        using (var workstation = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, new InitOs.Sidecar.Registry.RegistryOptions { CaPem = ca }))
        {
            BundlePush.Push(bundle, InitOs.Sidecar.Registry.ImageReference.Parse($"{registry.Address}/initos/os"), workstation);
        }
        var fetched = AdminSessions.RunWhenUp(client, target, "upgrade apply --from 5.0");
        Assert.True(fetched.Succeeded, $"{fetched.ExitCode}: {fetched.Output} {fetched.Error}");
        Assert.Contains($"fetching 10.0.2.2:{registry.Port}/initos/os:5.0", fetched.Output, StringComparison.Ordinal);
        Assert.Contains("upgrade: verdict on os@5.0: good; blessed", fetched.Output, StringComparison.Ordinal);
        var bytes = long.Parse(Regex.Match(fetched.Output, @"(?<n>\d+) bytes fetched from the registry").Groups["n"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(bytes, 100_000, 64L << 20);
        vm.Expect("OS-VERSION=5.0 start=");
        Console.WriteLine($"jailed upgrade from a registry: {bytes} bytes fetched");
    }

    /// <summary>
    /// 4.0 is applied, and the host reboots while its trial is being judged: the judge of the
    /// next boot finds the trial in the pointer, PID 1 starts it with its last start, and it is
    /// judged from the boot and blessed.
    /// </summary>
    private static void TheHostGoingDownDuringATrialSpendsOneStartAndTheBootsJudgeRules(VmBoot vm, AdminClient client, AdminTarget target, string bundle)
    {
        var applying = Task.Run(() => UpgradeImages.Apply(client, target, "upgrade apply", bundle));
        vm.Expect("OS-VERSION=4.0 start=6");
        var reboot = client.Run(target, "reboot");
        Assert.True(reboot.Succeeded, $"{reboot.ExitCode}: {reboot.Error}");
        vm.Expect(@"starting as PID 1");
        // The session that applied 4.0 ended with the host; how it ended is not the point.
        try
        {
            applying.Wait(TimeSpan.FromSeconds(60));
        }
        catch (AggregateException)
        {
        }
        vm.Expect(@"os: the trial os@4\.0 \(0 more starts after this one\); the sidecar judges it");
        vm.Expect("OS-VERSION=4.0 start=1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string good = "";
        while (DateTime.UtcNow < deadline && good != "os@4.0")
        {
            var status = AdminSessions.RunWhenUp(client, target, "upgrade status --json");
            Assert.True(status.Succeeded, $"{status.ExitCode}: {status.Error}");
            using var json = System.Text.Json.JsonDocument.Parse(status.Output);
            good = json.RootElement.GetProperty("os_images").GetProperty("good").GetString() ?? "";
            Thread.Sleep(1000);
        }
        Assert.Equal("os@4.0", good);
    }
}

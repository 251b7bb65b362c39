using InitOs.ImageBuild.Rootfs;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>Real QEMU boots of the Debian kernel with InitOS as PID 1, one boot per case.</summary>
[Collection(BootCollection.Name)]
public sealed class SwitchRootBootTests
{
    private const string OsUp = @"INITOS-OS-UP uptime=(?<uptime>[0-9.]+) pid=(?<pid>\d+) hostname=(?<host>\S+) rootfs=(?<fs>\S+)(?=\r?\n)";
    private const string RootOptions = @"INITOS-OS-ROOT options=(?<options>\S+)(?= )";
    private readonly BootImages _images;

    public SwitchRootBootTests(BootImages images) => _images = images;

    [Fact]
    public void Boots_by_label_read_only_and_prints_the_timing_table()
    {
        using var vm = new VmBoot(nameof(Boots_by_label_read_only_and_prints_the_timing_table), _images, "root=LABEL=initos-root");
        var up = vm.Expect(OsUp);
        Assert.Equal("1", up.Groups["pid"].Value);
        Assert.Equal("ext4", up.Groups["fs"].Value);
        Assert.Equal(DefaultRootfs.DefaultHostname, up.Groups["host"].Value);
        Assert.StartsWith("ro", vm.Expect(RootOptions).Groups["options"].Value, StringComparison.Ordinal);
        var log = vm.Session.Log;
        Assert.Contains("boot timing:", log, StringComparison.Ordinal);
        foreach (var phase in new[] { "early-mounts", "settings", "modules", "devices", "root", "switch-root" })
        {
            Assert.Matches($@"initos: {phase}\s+\d+\.\d+\s+\d+\.\d+", log);
        }
        Assert.Contains("root=LABEL=initos-root is /dev/vda", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Boots_by_uuid_read_write()
    {
        var disk = _images.CopyOfRootfs("rw.img");
        using var vm = new VmBoot(nameof(Boots_by_uuid_read_write), _images, $"root=UUID={DiskImages.RootUuid} rw", null, disk);
        vm.Expect(OsUp);
        Assert.StartsWith("rw", vm.Expect(RootOptions).Groups["options"].Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Boots_by_partuuid_on_a_gpt_disk()
    {
        const string partUuid = "6a2c7e1b-0d4f-4c8a-b3e5-9f1d2c3b4a50";
        var disk = _images.Scratch("gpt-partuuid.img");
        DiskImages.GptWithRoot(_images.Rootfs, disk, partUuid, "os-root");
        using var vm = new VmBoot(nameof(Boots_by_partuuid_on_a_gpt_disk), _images, $"root=PARTUUID={partUuid}", null, disk);
        Assert.Equal("ext4", vm.Expect(OsUp).Groups["fs"].Value);
        Assert.Contains($"root=PARTUUID={partUuid} is /dev/vda2", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Boots_by_partlabel_on_a_gpt_disk()
    {
        var disk = _images.Scratch("gpt-partlabel.img");
        DiskImages.GptWithRoot(_images.Rootfs, disk, "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", "initos-sys");
        using var vm = new VmBoot(nameof(Boots_by_partlabel_on_a_gpt_disk), _images, "root=PARTLABEL=initos-sys", null, disk);
        vm.Expect(OsUp);
        Assert.Contains("root=PARTLABEL=initos-sys is /dev/vda2", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_on_the_command_line_replaces_sbin_init()
    {
        var disk = _images.Scratch("alt-init.img");
        var altInit = new DefaultRootfs.ExtraFile("sbin/alt-init", "#!/bin/sh\necho \"INITOS-ALT-INIT pid=$$ args=$*\"\nexec /bin/busybox init\n");
        DiskImages.DefaultRootfs(disk, extras: [altInit]);
        using var vm = new VmBoot(nameof(Init_on_the_command_line_replaces_sbin_init), _images, "root=/dev/vda init=/sbin/alt-init -- one two", null, disk);
        var alt = vm.Expect(@"INITOS-ALT-INIT pid=(?<pid>\d+) args=(?<args>.*)(?=\r?\n)");
        Assert.Equal("1", alt.Groups["pid"].Value);
        Assert.Equal("one two", alt.Groups["args"].Value.Trim());
        Assert.DoesNotContain("INITOS-OS-UP", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_root_waits_bounded_then_follows_the_policy_and_names_what_it_saw()
    {
        using var vm = new VmBoot(nameof(A_missing_root_waits_bounded_then_follows_the_policy_and_names_what_it_saw), _images,
            "root=LABEL=no-such-disk initos.rootwait=2 initos.on_failure=poweroff");
        vm.Expect(@"root device LABEL=no-such-disk not found after 2 s; block devices seen: vda \(24 MiB ext4 LABEL=initos-root UUID=" + DiskImages.RootUuid);
        vm.Expect("powering off");
        vm.ExpectExit();
        Assert.DoesNotContain("Kernel panic", vm.Session.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Break_opens_a_shell_before_the_phase_and_the_boot_continues_after_it()
    {
        using var vm = new VmBoot(nameof(Break_opens_a_shell_before_the_phase_and_the_boot_continues_after_it), _images, "root=LABEL=initos-root initos.break=devices");
        vm.Expect("emergency shell before phase 'devices'");
        vm.ExpectPrompt(@"\(initos emergency\)");
        vm.Session.Send("echo BREAK-$((6*7)) && ls /sysroot >/dev/null && exit\n");
        vm.Expect("BREAK-42");
        vm.Expect("phase devices: start");
        vm.Expect(OsUp);
    }

    [Fact]
    public void A_corrupt_config_is_reported_with_file_line_and_key_then_the_policy_runs()
    {
        var config = _images.Scratch("bad.toml");
        File.WriteAllText(config, "mode = \"switch_root\"\n\n[root]\nwait_secs = 5\n");
        var initramfs = _images.BuildInitramfs("bad-config.img", config, allowInvalid: true);
        using var vm = new VmBoot(nameof(A_corrupt_config_is_reported_with_file_line_and_key_then_the_policy_runs), _images,
            "root=LABEL=initos-root initos.on_failure=poweroff", initramfs);
        vm.Expect(@"/etc/initos/initos\.toml:4: root\.wait_secs: unknown key");
        vm.ExpectExit();
        Assert.DoesNotContain("INITOS-OS-UP", vm.Session.Log, StringComparison.Ordinal);
    }
}

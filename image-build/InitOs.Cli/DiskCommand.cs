using System.CommandLine;
using InitOs.Efi.Signing;
using InitOs.ImageBuild.Disk;

namespace InitOs.Cli;

/// <summary>
/// `initos build disk`: a GPT image whose ESP holds the signed UKI as EFI/BOOT/BOOTX64.EFI, or
/// systemd-boot there with the UKI under EFI/Linux/ (and, when asked, Secure Boot keys for it to
/// enrol), followed by the root and data partitions.
/// </summary>
internal static class DiskCommand
{
    public static Command Create()
    {
        var output = Cli.Option<string>("--output", "where to write the disk image", () => "out/disk.img");
        var uki = Cli.Option<string>("--uki", "the signed UKI (initos build uki)", () => "out/initos.efi");
        var rootfs = Cli.Option<string?>("--rootfs", "a root filesystem image for the root partition (initos build rootfs)");
        var data = Cli.Option<string?>("--data", "a filesystem image for a data partition");
        var systemdBoot = Cli.Option<bool>("--systemd-boot", "boot through systemd-boot (signed with --keys), the UKI under EFI/Linux/");
        var keys = Cli.Option<string?>("--keys", "with --systemd-boot: the key set that signs systemd-boot");
        var enroll = Cli.Option<string?>("--enroll", "with --systemd-boot: a key set (initos keys generate) that systemd-boot enrols into a firmware in setup mode");
        var espSize = Cli.Option<int>("--esp-size", "ESP size in MiB", () => 64);
        var command = new Command("disk", "write a GPT disk image: ESP with the UKI (or systemd-boot + UKI), then root and data partitions")
        {
            output, uki, rootfs, data, systemdBoot, keys, enroll, espSize,
        };
        command.SetAction(r =>
        {
            var layout = new BootDisk.Layout(r.GetValue(uki)!, r.GetValue(rootfs), r.GetValue(data), r.GetValue(systemdBoot),
                r.GetValue(keys) is { } k ? KeySet.Open(k) : null, r.GetValue(enroll), (long)r.GetValue(espSize) << 20);
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            BootDisk.Write(layout, path);
            Console.WriteLine($"disk {path}: {new FileInfo(path).Length >> 20} MiB, ESP{(layout.Rootfs is null ? "" : " + root")}{(layout.Data is null ? "" : " + data")}, {(layout.SystemdBoot ? $"systemd-boot → EFI/Linux/{InitOs.Efi.Uki.UkiRelease.EntryFileName(layout.Uki)}" : "EFI/BOOT/BOOTX64.EFI = the UKI")}");
            return 0;
        });
        return command;
    }
}

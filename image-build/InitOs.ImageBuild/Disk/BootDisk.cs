using System.Security.Cryptography;
using System.Text;
using InitOs.Efi.Signing;

namespace InitOs.ImageBuild.Disk;

/// <summary>
/// A bootable GPT disk image: an ESP with the signed UKI as EFI/BOOT/BOOTX64.EFI, or
/// systemd-boot there (signed) with the UKI under EFI/Linux/ and, when asked, key updates for
/// it to enrol; then the root and data partitions. Partition GUIDs derive from the UKI's hash.
/// </summary>
public static class BootDisk
{
    public const string SystemdBoot = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
    /// <summary>With `secure-boot-enroll force`, systemd-boot 252 enrols the "auto" key directory without asking.</summary>
    public const string EnrolledKeysName = "auto";

    public sealed record Layout(string Uki, string? Rootfs, string? Data, bool SystemdBoot, KeySet? Keys, string? Enroll, long EspBytes);

    public static void Write(Layout layout, string output)
    {
        Require(layout.Uki);
        var scratch = Directory.CreateTempSubdirectory("initos-disk-").FullName;
        try
        {
            var esp = Path.Combine(scratch, "esp.img");
            EspImage.Create(esp, EspFiles(layout, scratch), layout.EspBytes);
            var seed = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(layout.Uki)));
            var partitions = new List<GptPartition> { new(GptPartition.EspType, DerivedGuid(seed, "esp"), "ESP", esp, layout.EspBytes) };
            if (layout.Rootfs is { } rootfs)
            {
                partitions.Add(new(GptPartition.RootX64Type, DerivedGuid(seed, "root"), "root", Require(rootfs), new FileInfo(rootfs).Length));
            }
            if (layout.Data is { } data)
            {
                partitions.Add(new(GptPartition.LinuxDataType, DerivedGuid(seed, "data"), "data", Require(data), new FileInfo(data).Length));
            }
            GptWriter.Write(output, DerivedGuid(seed, "disk"), partitions);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static Dictionary<string, string> EspFiles(Layout layout, string scratch)
    {
        if (!layout.SystemdBoot)
        {
            if (layout.Keys is not null || layout.Enroll is not null)
            {
                throw new ArgumentException("--keys and --enroll go with --systemd-boot");
            }
            return new() { ["EFI/BOOT/BOOTX64.EFI"] = layout.Uki };
        }
        var keys = layout.Keys ?? throw new ArgumentException("--systemd-boot needs --keys: systemd-boot must be signed to boot under Secure Boot");
        var bootloader = Path.Combine(scratch, "systemd-bootx64.efi");
        PeSigner.Sign(keys, Require(SystemdBoot), bootloader);
        var loaderConf = Path.Combine(scratch, "loader.conf");
        var files = new Dictionary<string, string>
        {
            ["EFI/BOOT/BOOTX64.EFI"] = bootloader,
            // A release's UKI is a slot upgrades can count boots on and replace (docs/upgrades.md).
            ["EFI/Linux/" + InitOs.Efi.Uki.UkiRelease.EntryFileName(layout.Uki)] = layout.Uki,
            ["loader/loader.conf"] = loaderConf,
        };
        var conf = new StringBuilder("timeout 0\n");
        if (layout.Enroll is { } enroll)
        {
            // systemd-boot 252 enrols /loader/keys/NAME/{PK,KEK,db}.auth by itself when the firmware is in setup mode.
            var set = new KeySet(Path.GetFullPath(enroll));
            foreach (var name in KeySet.Names)
            {
                files[$"loader/keys/{EnrolledKeysName}/{name}.auth"] = Require(set.Update(name));
            }
            conf.Append("secure-boot-enroll force\n");
        }
        File.WriteAllText(loaderConf, conf.ToString());
        return files;
    }

    /// <summary>A GUID from the UKI's hash and the role: reproducible for the same image, different between images.</summary>
    private static Guid DerivedGuid(string seed, string role)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(seed + "/" + role))[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 (in .NET's byte order)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} does not exist");
}

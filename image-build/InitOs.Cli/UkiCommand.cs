using System.CommandLine;
using InitOs.Efi.Signing;
using InitOs.Efi.Uki;
using InitOs.ImageBuild.Kernel;
using InitOs.Tools;

namespace InitOs.Cli;

/// <summary>`initos build uki`: write the Unified Kernel Image, sign it, and print the PCR 11 it will measure to.</summary>
internal static class UkiCommand
{
    /// <summary>The build's own os-release: the version `initos --version` prints.</summary>
    public static string DefaultOsRelease => InitOs.Init.BuildVersion.OsRelease;

    /// <summary>The initramfs's own os-release (its release and build), or the build's when it has none.</summary>
    private static string OsReleaseOf(string initramfs) =>
        File.Exists(initramfs) && InitOs.ImageBuild.Cpio.InitramfsReader.Find(initramfs, InitOs.ImageBuild.Initramfs.InitramfsBuilder.OsReleasePath) is { } bytes
            ? System.Text.Encoding.UTF8.GetString(bytes)
            : DefaultOsRelease;

    public static Command Create()
    {
        var output = Cli.Option<string>("--output", "where to write the UKI", () => "out/initos.efi");
        var kernelDir = Cli.Option<string>("--kernel-dir", "unpacked Debian kernel; its boot/vmlinuz-* goes in .linux", () => Cli.DefaultKernelDirectory);
        var initrd = Cli.Option<string>("--initrd", "the initramfs (.initrd)", () => "out/initramfs.img");
        var cmdline = Cli.Option<string>("--cmdline", "the kernel command line (.cmdline); under Secure Boot it cannot be changed at boot", () => "quiet");
        var consoles = Cli.Option<string>("--consoles", "consoles put in front of --cmdline as console=X, the last being /dev/console (none when --cmdline names its own)", () => KernelConsoles.Default);
        var osRelease = Cli.Option<string?>("--os-release", "an os-release file for .osrel (default: the initramfs's etc/os-release, which carries [upgrade] version)");
        var stub = Cli.Option<string>("--stub", "the unsigned systemd stub", () => UkiSpec.DefaultStub);
        var keys = Cli.Option<string?>("--keys", "a key set (initos keys generate|snakeoil) whose db key signs the UKI");
        var unsigned = Cli.Option<bool>("--unsigned", "write the UKI without signing it");
        var splash = Cli.Option<string?>("--splash", "a BMP image for .splash");
        var dtb = Cli.Option<string?>("--dtb", "a devicetree blob for .dtb");
        var pcrPublicKey = Cli.Option<string?>("--pcrpkey", "a PEM public key for .pcrpkey (measured)");
        var pcrSignature = Cli.Option<string?>("--pcrsig", "a JSON PCR signature for .pcrsig (not measured)");
        var command = new Command("uki", "write a Unified Kernel Image (systemd stub + kernel + initramfs + cmdline), sign it, predict PCR 11")
        {
            output, kernelDir, initrd, cmdline, consoles, osRelease, stub, keys, unsigned, splash, dtb, pcrPublicKey, pcrSignature,
        };
        command.SetAction(r =>
        {
            var keyDirectory = r.GetValue(keys);
            if (keyDirectory is null && !r.GetValue(unsigned))
            {
                throw new ArgumentException("--keys DIR to sign the UKI, or --unsigned to leave it unsigned");
            }
            var spec = new UkiSpec
            {
                Stub = r.GetValue(stub)!,
                Kernel = KernelFolder.Open(r.GetValue(kernelDir)!).Vmlinuz,
                Initrd = r.GetValue(initrd)!,
                Cmdline = KernelConsoles.Compose(r.GetValue(consoles)!, r.GetValue(cmdline)!),
                OsRelease = r.GetValue(osRelease) is { } file ? File.ReadAllText(file) : OsReleaseOf(r.GetValue(initrd)!),
                Splash = r.GetValue(splash),
                Devicetree = r.GetValue(dtb),
                PcrPublicKey = r.GetValue(pcrPublicKey),
                PcrSignature = r.GetValue(pcrSignature),
                Timestamp = (uint)Math.Min(ExternalTool.SourceDateEpoch(), uint.MaxValue),
            };
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var built = UkiBuilder.Build(spec, path, keyDirectory is null ? null : KeySet.Open(keyDirectory));
            Console.WriteLine($"uki {path}: {new FileInfo(path).Length} bytes, {(built.SignedWith is null ? "unsigned" : $"signed with {built.SignedWith}")}");
            Console.WriteLine($"  sections: {string.Join(' ', built.Sections)}");
            Console.WriteLine($"  cmdline: {spec.Cmdline}");
            Console.WriteLine($"  PCR 11 (sha256) after the stub's measurements: {built.Pcr11}");
            return 0;
        });
        return command;
    }
}

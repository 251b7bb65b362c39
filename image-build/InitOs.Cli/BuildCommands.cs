using System.CommandLine;
using InitOs.ImageBuild.Cpio;
using InitOs.ImageBuild.Initramfs;
using InitOs.ImageBuild.Oci;
using InitOs.ImageBuild.Rootfs;
using InitOs.Tools;
using InitOs.Init.Config;
using InitOs.Init.Modules;
using InitOs.Sidecar.Registry;

namespace InitOs.Cli;

/// <summary>`initos build initramfs|rootfs`.</summary>
internal static class BuildCommands
{
    public static Command Create() => new("build", "build images: the initramfs, root filesystems, the signed UKI and disk images")
    {
        Initramfs(),
        Rootfs(),
        DataCommand.Create(),
        EnrolCommand.Create(),
        UkiCommand.Create(),
        DiskCommand.Create(),
        NetbootCommand.Create(),
        BundleCommands.Build(),
    };

    private static Command Initramfs()
    {
        var output = Cli.Option<string>("--output", "where to write the initramfs", () => "out/initramfs.img");
        var box = Cli.Option<string>("--box", "the NativeAOT multi-call binary (default: the one installed beside the CLI, or INITOS_BOX)", () => Cli.DefaultBox);
        var kernel = Cli.Option<string>("--kernel-dir", "an unpacked Debian linux-image package (default: INITOS_KERNEL_DIR, the one installed beside the CLI, or ~/.cache/initos/kernel)", () => Cli.DefaultKernelDirectory);
        var config = Cli.Option<string?>("--config", "initos.toml to pack as /etc/initos/initos.toml (default: the one shipped with the CLI)", () => Cli.DefaultConfig);
        var compression = Cli.Option<string>("--compression", "zstd, gzip or none", () => "zstd");
        var level = Cli.Option<int>("--zstd-level", "zstd level 1..19 (19 = smallest, slowest)", () => 19);
        var noShell = Cli.Option<bool>("--no-shell", "leave busybox (the emergency shell) out");
        var addExec = Cli.Option<string[]>("--add-exec", "IMAGE_PATH=FILE: add a program and the libraries it needs (repeatable)");
        var addTree = Cli.Option<string[]>("--add-tree", "IMAGE_PATH=DIR: add a directory tree as it is (repeatable)");
        var vmKitQemu = Cli.Option<string>("--vm-kit-qemu", "the QEMU of the VM kit mode vm may run (its files' digests are packed; \"none\": mode vm refuses to start)", () => InitOs.ImageBuild.Data.VmKit.DefaultQemu);
        var profile = Cli.Option<string?>("--profile", "generic (every storage, USB, keyboard and Ethernet driver), host (this machine's, or --hardware's) or explicit (modules.include only); default: the config's [modules] profile");
        var hardware = Cli.Option<string?>("--hardware", "with profile host: the target's inventory, as `initos admin hardware --json` prints it");
        var firmware = Cli.Option<string>("--firmware-dir", "where firmware and CPU microcode are found", () => "/lib/firmware");
        var command = new Command("initramfs", "build the initramfs: the InitOS binary, its libraries, kernel modules, firmware, microcode, config, emergency shell")
        {
            output, box, kernel, config, compression, level, noShell, addExec, addTree, vmKitQemu, profile, hardware, firmware,
        };
        command.SetAction(r =>
        {
            var spec = new InitramfsSpec
            {
                BoxBinary = r.GetValue(box)!,
                KernelDirectory = r.GetValue(kernel)!,
                ConfigFile = r.GetValue(config),
                Compression = ParseCompression(r.GetValue(compression)!),
                ZstdLevel = r.GetValue(level),
                Busybox = r.GetValue(noShell) ? null : "/bin/busybox",
                ExtraExecutables = Pairs("--add-exec", r.GetValue(addExec)),
                ExtraTrees = Pairs("--add-tree", r.GetValue(addTree)),
                VmKitQemu = r.GetValue(vmKitQemu) is "none" ? null : r.GetValue(vmKitQemu),
                Profile = r.GetValue(profile) is { } name ? ParseProfile(name, r.GetValue(hardware)) : (r.GetValue(hardware) is null ? null : ModuleProfile.Host),
                Hardware = r.GetValue(hardware) is { } inventory ? HardwareInventory.Parse(File.ReadAllText(inventory), inventory) : null,
                FirmwareDirectory = r.GetValue(firmware)!,
                Mtime = ExternalTool.SourceDateEpoch(),
            };
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var report = InitramfsBuilder.Build(spec, path);
            Console.WriteLine($"initramfs {report.Output}: {report.Bytes} bytes ({report.Bytes / 1024.0 / 1024.0:F2} MiB), {report.Entries} entries, box {new FileInfo(spec.BoxBinary).Length} bytes");
            Console.WriteLine($"  libraries: {string.Join(' ', report.Libraries)}");
            Console.WriteLine($"  modules ({report.Modules.Count}): {string.Join(' ', report.Modules)}");
            Console.WriteLine($"  profile {report.Profile}: firmware {report.Firmware.Count} files packed, {report.FirmwareMissing} declared but not in {spec.FirmwareDirectory}");
            if (report.HostLeftOut.Count > 0)
            {
                Console.WriteLine($"  profile host: left out of modules.include, no such device in the inventory: {string.Join(' ', report.HostLeftOut)}");
            }
            Console.WriteLine(report.Microcode.Count == 0
                ? $"  microcode: none under {spec.FirmwareDirectory} (intel-microcode, amd64-microcode)"
                : $"  microcode (early cpio): {string.Join(", ", report.Microcode.Select(m => $"{m.Path} {m.Files} files {m.Content.Length} bytes"))}");
            Console.WriteLine($"  {report.VmKit}");
            return 0;
        });
        return command;
    }

    /// <summary>IMAGE_PATH=HOST_PATH values of a repeatable option.</summary>
    public static Dictionary<string, string> Pairs(string option, string[]? values)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == value.Length - 1)
            {
                throw new ArgumentException($"{option} {value}: expected IMAGE_PATH=HOST_PATH");
            }
            pairs[value[..equals].Trim('/')] = value[(equals + 1)..];
        }
        return pairs;
    }

    private static ModuleProfile ParseProfile(string name, string? hardware)
    {
        var profile = ConfigNames.ModuleProfiles.TryGetValue(name, out var p) ? p : throw new ArgumentException($"--profile {name}: expected {string.Join(", ", ConfigNames.ModuleProfiles.Keys)}");
        return hardware is not null && profile != ModuleProfile.Host ? throw new ArgumentException($"--hardware goes with --profile host, not {name}") : profile;
    }

    private static Command Rootfs()
    {
        var output = Cli.Option<string>("--output", "where to write the ext4 image", () => "out/rootfs.img");
        var label = Cli.Option<string>("--label", "filesystem label (root=LABEL=…)", () => DefaultRootfs.DefaultLabel);
        var uuid = Cli.Option<string?>("--uuid", "filesystem UUID (random when not given)");
        var size = Cli.Option<int?>("--size", "image size in MiB (default 32, or 1024 with --debootstrap)");
        var debootstrap = Cli.Option<bool>("--debootstrap", "a Debian (minbase, systemd as init) by debootstrap instead, with a unit that prints INITOS-DEBIAN-UP at multi-user.target");
        var suite = Cli.Option<string>("--suite", "with --debootstrap: the Debian suite", () => DebianRootfs.DefaultSuite);
        var mirror = Cli.Option<string>("--mirror", "with --debootstrap: the Debian mirror", () => DebianRootfs.DefaultMirror);
        var fromOci = Cli.Option<string?>("--from-oci", "a container image instead: an OCI image layout (directory), an OCI archive, a `docker save` archive, or REGISTRY/REPO:TAG|@sha256:… in a registry; its layers applied in order");
        var fromPodman = Cli.Option<string?>("--from-podman", "a container image in podman's storage instead (NAME[:TAG] or ID), exported with `podman image save`");
        var podmanRoot = Cli.Option<string?>("--podman-root", "with --from-podman: podman's storage directory (default: the storage of the user running initos)");
        var tag = Cli.Option<string?>("--tag", "with --from-oci: the image's tag when the source holds several");
        var format = Cli.Option<string>("--format", "with --from-oci: ext4, erofs, squashfs, btrfs, dir (a directory tree, e.g. images/NAME for the jail modes), or vm (ext4 with the modules of --kernel-dir: mode vm's disk image, paired with a VM kit of that kernel)", () => "ext4");
        var kernelDir = Cli.Option<string>("--kernel-dir", "with --format vm: the unpacked Debian kernel the VM kit boots (initos build data --vm-kit --kernel-dir)", () => Cli.DefaultKernelDirectory);
        var (plain, ca, pin) = RegistryCommands.ConnectionOptions();
        var cache = Cli.Option<string>("--cache", "with --from-oci REGISTRY/…: the blob cache (a blob there is not fetched again)", () => Path.Combine(Cli.CacheDirectory, "blobs"));
        var command = new Command("rootfs", "build the default OS (busybox-static with an init that prints INITOS-OS-UP), with --debootstrap a Debian with systemd, or with --from-oci the root filesystem of a container image")
        {
            output, label, uuid, size, debootstrap, suite, mirror, fromOci, fromPodman, podmanRoot, tag, format, kernelDir, plain, ca, pin, cache,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(fromPodman) is { } podmanImage)
            {
                Cli.RequireRoot("initos build rootfs --from-podman", "a layer sets owners, set-id bits, device nodes and extended attributes");
                var exported = Directory.CreateTempSubdirectory("initos-podman-").FullName;
                try
                {
                    var archive = Path.Combine(exported, "image.tar");
                    PodmanImage.Save(podmanImage, archive, r.GetValue(podmanRoot));
                    return FromOci(archive, null, ParseFormat(r.GetValue(format)!), r.GetValue(output)!, r.GetValue(label)!, r.GetValue(uuid), r.GetValue(size), r.GetValue(kernelDir)!, $"podman image {podmanImage}");
                }
                finally
                {
                    Directory.Delete(exported, true);
                }
            }
            if (r.GetValue(fromOci) is { } registrySource && OciRegistryImage.IsReference(registrySource))
            {
                Cli.RequireRoot("initos build rootfs --from-oci", "a layer sets owners, set-id bits, device nodes and extended attributes");
                var reference = ImageReference.Parse(registrySource);
                using var client = RegistryCommands.Client(reference, r.GetValue(plain), r.GetValue(ca), r.GetValue(pin));
                var options = new OciRootfs.Options(ParseFormat(r.GetValue(format)!), r.GetValue(output)!, r.GetValue(label)!, null, r.GetValue(uuid), r.GetValue(size), r.GetValue(kernelDir));
                var built = OciRegistryImage.Build(reference, client, new BlobCache(r.GetValue(cache)!), options, Console.WriteLine);
                Console.WriteLine($"rootfs {options.Output}: {r.GetValue(format)} from {reference} (config {built.ConfigDigest}): {built.Layers} layers, {built.Entries} entries, {built.TreeBytes / 1024} KiB of tree; {client.BytesFetched} bytes fetched{PairNote(built)}");
                return 0;
            }
            if (r.GetValue(fromOci) is { } source)
            {
                return FromOci(source, r.GetValue(tag), ParseFormat(r.GetValue(format)!), r.GetValue(output)!, r.GetValue(label)!, r.GetValue(uuid), r.GetValue(size), r.GetValue(kernelDir)!, source);
            }
            bool debian = r.GetValue(debootstrap);
            if (debian)
            {
                Cli.RequireRoot("initos build rootfs --debootstrap", "debootstrap makes device nodes, sets owners and runs the packages' scripts in a chroot");
            }
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var staging = Directory.CreateTempSubdirectory("initos-rootfs-").FullName;
            try
            {
                if (debian)
                {
                    DebianRootfs.Stage(staging, r.GetValue(suite)!, r.GetValue(mirror)!);
                }
                else
                {
                    DefaultRootfs.Stage(staging);
                }
                FilesystemImage.CreateExt4(staging, path, new FilesystemImage.Ext4Options(r.GetValue(label)!, r.GetValue(uuid), r.GetValue(size) ?? (debian ? 1024 : 32)));
            }
            finally
            {
                Directory.Delete(staging, true);
            }
            Console.WriteLine($"rootfs {path}: ext4, LABEL={r.GetValue(label)}, {new FileInfo(path).Length / 1024 / 1024} MiB");
            return 0;
        });
        return command;
    }

    private static int FromOci(string source, string? tag, RootfsFormat format, string output, string label, string? uuid, int? size, string kernelDirectory, string shownAs)
    {
        Cli.RequireRoot("initos build rootfs --from-oci", "a layer sets owners, set-id bits, device nodes and extended attributes");
        var result = OciRootfs.Build(source, new OciRootfs.Options(format, output, label, tag, uuid, size, kernelDirectory), Console.WriteLine);
        var kind = format == RootfsFormat.Directory ? "directory" : format.ToString().ToLowerInvariant();
        var reference = result.Reference.Length > 0 && source == shownAs ? ":" + result.Reference : "";
        Console.WriteLine($"rootfs {output}: {kind} from {shownAs}{reference} (config {result.ConfigDigest}): {result.Layers} layers, {result.Entries} entries, {result.TreeBytes / 1024} KiB of tree{PairNote(result)}");
        return 0;
    }

    /// <summary>Format vm: which kernel the image pairs with.</summary>
    private static string PairNote(OciRootfs.Result result) => result.KernelVersion is { } version
        ? $"; with the modules of kernel {version}: boot it in mode vm with a VM kit of that kernel (initos build data --vm-kit --kernel-dir … --image NAME=THIS)"
        : "";

    private static RootfsFormat ParseFormat(string value) => value switch
    {
        "ext4" => RootfsFormat.Ext4,
        "erofs" => RootfsFormat.Erofs,
        "squashfs" => RootfsFormat.Squashfs,
        "btrfs" => RootfsFormat.Btrfs,
        "dir" => RootfsFormat.Directory,
        "vm" => RootfsFormat.Vm,
        _ => throw new ArgumentException($"--format {value}: expected ext4, erofs, squashfs, btrfs, dir or vm"),
    };

    private static Compression ParseCompression(string value) => value switch
    {
        "zstd" => Compression.Zstd,
        "gzip" => Compression.Gzip,
        "none" => Compression.None,
        _ => throw new ArgumentException($"--compression {value}: expected zstd, gzip or none"),
    };
}

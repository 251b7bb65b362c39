using System.CommandLine;
using InitOs.ImageBuild.Data;
using InitOs.ImageBuild.Kernel;

namespace InitOs.Cli;

/// <summary>`initos build data`: the data volume, with OS images and (for mode vm) the VM kit.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var output = Cli.Option<string>("--output", "where to write the volume image", () => "out/data.img");
        var size = Cli.Option<int>("--size", "image size in MiB", () => 256);
        var fstype = Cli.Option<string>("--fstype", "btrfs (the jail modes' pool needs it) or ext4", () => "btrfs");
        var label = Cli.Option<string>("--label", "filesystem label ([data] device = \"LABEL=…\")", () => DataVolume.DefaultLabel);
        var vmKit = Cli.Option<bool>("--vm-kit", "stage mode vm's kit under vm/: QEMU with its libraries, TCG module and firmware, the guest kernel and initramfs");
        var kernel = Cli.Option<string>("--kernel-dir", "with --vm-kit: the unpacked Debian kernel whose vmlinuz the guest boots", () => Cli.DefaultKernelDirectory);
        var initramfs = Cli.Option<string>("--initramfs", "with --vm-kit: the guest's initramfs (InitOS, which finds the guest's root)", () => "out/initramfs.img");
        var qemu = Cli.Option<string>("--qemu", "with --vm-kit: the QEMU binary to stage", () => VmKit.DefaultQemu);
        var images = Cli.Option<string[]>("--image", "NAME=PATH: images/NAME on the volume, a disk image file (mode vm) or an OS directory (jail modes); repeatable");
        var command = new Command("data", "build a data volume image: images/, state/ and, with --vm-kit, mode vm's QEMU kit")
        {
            output, size, fstype, label, vmKit, kernel, initramfs, qemu, images,
        };
        command.SetAction(r =>
        {
            var spec = new DataVolume.Spec
            {
                Label = r.GetValue(label)!,
                FsType = r.GetValue(fstype)!,
                SizeMiB = r.GetValue(size),
                VmKit = r.GetValue(vmKit) ? new VmKit.Spec(KernelFolder.Open(r.GetValue(kernel)!).Vmlinuz, r.GetValue(initramfs)!, r.GetValue(qemu)!) : null,
                Images = BuildCommands.Pairs("--image", r.GetValue(images)),
            };
            if (spec.Images.Values.Any(Directory.Exists))
            {
                Cli.RequireRoot("initos build data --image NAME=DIRECTORY", "an OS tree keeps its owners (root's files stay root's) only when copied by root");
            }
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var report = DataVolume.Create(spec, path);
            long bytes = report.Bytes;
            Console.WriteLine($"data volume {path}: {spec.FsType}, LABEL={spec.Label}, {spec.SizeMiB} MiB, {bytes >> 20} MiB of files{(spec.VmKit is null ? "" : ", VM kit in vm/")}{(spec.Images.Count == 0 ? "" : ", images: " + string.Join(' ', spec.Images.Keys))}");
            foreach (var (name, digest) in report.ImageDigests)
            {
                Console.WriteLine($"  images/{name}: os.image_digest = \"{digest}\"");
            }
            return 0;
        });
        return command;
    }
}

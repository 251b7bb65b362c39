using InitOs.ImageBuild.Elf;
using InitOs.Init.Config;
using InitOs.Init.Trust;

namespace InitOs.ImageBuild.Data;

/// <summary>
/// Stages mode vm's kit (see <see cref="VmKitLayout"/>): this workstation's QEMU with every
/// library it needs and their loader, its TCG module, the firmware both machine types use,
/// and the guest's kernel and initramfs. QEMU then runs from the data volume under any
/// initramfs: it never needs the host OS's /usr.
/// </summary>
public static class VmKit
{
    public const string DefaultQemu = "/usr/bin/qemu-system-x86_64";
    private static readonly string[] ModuleDirectories = ["/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu"];
    private static readonly string[] FirmwareDirectories = ["/usr/share/seabios", "/usr/share/qemu"];

    public sealed record Spec(string Kernel, string Initrd, string Qemu = DefaultQemu);

    /// <summary>Copies the kit into <paramref name="kitDirectory"/>; returns the files it holds, relative to it.</summary>
    public static IReadOnlyList<string> Stage(Spec spec, string kitDirectory)
    {
        foreach (var (what, path) in new[] { ("the guest kernel", spec.Kernel), ("the guest initramfs", spec.Initrd) })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"VM kit: {what} {path} does not exist");
            }
        }
        var staged = new List<string>();
        foreach (var (relative, source) in HostFiles(spec.Qemu))
        {
            Copy(source, kitDirectory, relative, staged);
        }
        StageKernel(spec.Kernel, kitDirectory, staged);
        Copy(spec.Initrd, kitDirectory, VmKitLayout.Initrd, staged);
        return staged;
    }

    /// <summary>
    /// The kit's files that run on the host as root (QEMU, its loader and libraries, its TCG
    /// module) or as the guest's firmware: relative path in the kit → this machine's file.
    /// These are what the signed initramfs holds digests of (<see cref="Digests"/>); the
    /// guest's kernel and initramfs run only inside the VM, so they are the guest's business.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> HostFiles(string qemu)
    {
        if (!File.Exists(qemu))
        {
            throw new FileNotFoundException($"VM kit: QEMU {qemu} does not exist{(qemu == DefaultQemu ? " (apt-get install qemu-system-x86)" : "")}");
        }
        var files = new List<KeyValuePair<string, string>> { new(VmKitLayout.Qemu, qemu) };
        foreach (var library in LibraryResolver.Resolve(qemu))
        {
            files.Add(new(Path.Combine(VmKitLayout.Libraries, library.Name), library.SourcePath));
        }
        // Debian builds the TCG accelerator as a module; without it QEMU cannot run a guest where KVM is missing.
        var tcg = ModuleDirectories.Select(d => Path.Combine(d, "accel-tcg-x86_64.so")).FirstOrDefault(File.Exists);
        if (tcg is not null)
        {
            files.Add(new(Path.Combine(VmKitLayout.Modules, Path.GetFileName(tcg)), tcg));
        }
        foreach (var firmware in VmKitLayout.FirmwareFiles)
        {
            var source = FirmwareDirectories.Select(d => Path.Combine(d, firmware)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"VM kit: firmware {firmware} is in none of {string.Join(", ", FirmwareDirectories)} (apt-get install seabios qemu-system-data)");
            files.Add(new(Path.Combine(VmKitLayout.Firmware, firmware), source));
        }
        return files;
    }

    /// <summary>The digests of <see cref="HostFiles"/>, as the initramfs carries them at <see cref="VmKitLayout.DigestFile"/>.</summary>
    public static DigestList Digests(string qemu) => DigestList.Of(HostFiles(qemu), VmKitLayout.DigestFile);

    /// <summary>The uncompressed kernel for a PVH boot when the kernel supports it, else the bzImage as it is.</summary>
    private static void StageKernel(string bzImage, string kitDirectory, List<string> staged)
    {
        var target = Path.Combine(kitDirectory, VmKitLayout.Kernel);
        Directory.CreateDirectory(kitDirectory);
        if (Kernel.PvhKernel.Supported(bzImage) && Kernel.PvhKernel.TryExtract(bzImage, target))
        {
            staged.Add(VmKitLayout.Kernel);
            return;
        }
        Copy(bzImage, kitDirectory, VmKitLayout.Kernel, staged);
    }

    private static void Copy(string source, string kitDirectory, string relative, List<string> staged)
    {
        var target = Path.Combine(kitDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(source, target, overwrite: true);
        if (VmKitLayout.IsExecutable(relative))
        {
            File.SetUnixFileMode(target, (UnixFileMode)0x1ED);
        }
        staged.Add(relative);
    }
}

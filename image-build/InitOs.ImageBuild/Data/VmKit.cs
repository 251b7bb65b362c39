using InitOs.ImageBuild.Elf;
using InitOs.Init.Config;

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
        foreach (var (what, path) in new[] { ("QEMU", spec.Qemu), ("the guest kernel", spec.Kernel), ("the guest initramfs", spec.Initrd) })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"VM kit: {what} {path} does not exist{(path == DefaultQemu ? " (apt-get install qemu-system-x86)" : "")}");
            }
        }
        var staged = new List<string>();
        Copy(spec.Qemu, kitDirectory, VmKitLayout.Qemu, staged);
        foreach (var library in LibraryResolver.Resolve(spec.Qemu))
        {
            Copy(library.SourcePath, kitDirectory, Path.Combine(VmKitLayout.Libraries, library.Name), staged);
        }
        // Debian builds the TCG accelerator as a module; without it QEMU cannot run a guest where KVM is missing.
        var tcg = ModuleDirectories.Select(d => Path.Combine(d, "accel-tcg-x86_64.so")).FirstOrDefault(File.Exists);
        if (tcg is not null)
        {
            Copy(tcg, kitDirectory, Path.Combine(VmKitLayout.Modules, Path.GetFileName(tcg)), staged);
        }
        foreach (var firmware in VmKitLayout.FirmwareFiles)
        {
            var source = FirmwareDirectories.Select(d => Path.Combine(d, firmware)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"VM kit: firmware {firmware} is in none of {string.Join(", ", FirmwareDirectories)} (apt-get install seabios qemu-system-data)");
            Copy(source, kitDirectory, Path.Combine(VmKitLayout.Firmware, firmware), staged);
        }
        StageKernel(spec.Kernel, kitDirectory, staged);
        Copy(spec.Initrd, kitDirectory, VmKitLayout.Initrd, staged);
        return staged;
    }

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
        // QEMU and the loader are executed; the rest only read.
        if (relative == VmKitLayout.Qemu || Path.GetFileName(relative).StartsWith("ld-linux", StringComparison.Ordinal))
        {
            File.SetUnixFileMode(target, (UnixFileMode)0x1ED);
        }
        staged.Add(relative);
    }
}

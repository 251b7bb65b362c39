using InitOs.ImageBuild.Cpio;
using InitOs.ImageBuild.Initramfs;
using InitOs.ImageBuild.Kernel;

namespace InitOs.TestKit;

/// <summary>
/// Images shared by every boot test of a run: one initramfs from the default config and one
/// default root filesystem, built once; tests copy what they modify.
/// </summary>
public sealed class BootImages : IDisposable
{
    private readonly TempDirectory _dir = new("initos-boot-");

    public BootImages()
    {
        RepoPaths.Require(RepoPaths.Box, "make box");
        RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel");
        Kernel = KernelFolder.Open(RepoPaths.KernelDirectory).Vmlinuz;
        Initramfs = BuildInitramfs("initramfs.img", RepoPaths.DefaultConfig);
        Rootfs = _dir.File("rootfs.img");
        DiskImages.DefaultRootfs(Rootfs);
    }

    public string Kernel { get; }
    public string Initramfs { get; }
    public string Rootfs { get; }

    public string Scratch(string name) => _dir.File(name);

    /// <summary>
    /// An initramfs with another config; <paramref name="allowInvalid"/> packs a broken one on purpose.
    /// The boot tests run QEMU's virtio machine, so the modules are the config's own (profile
    /// explicit: small images, fast builds and boots) unless <paramref name="configProfile"/>
    /// lets the config's [modules] profile decide, as the hardware tests do.
    /// </summary>
    public string BuildInitramfs(string name, string? configFile, bool allowInvalid = false, IReadOnlyDictionary<string, string>? extraExecutables = null, IReadOnlyDictionary<string, string>? extraTrees = null, bool configProfile = false, string firmwareDirectory = "/lib/firmware")
    {
        var output = _dir.File(name);
        InitramfsBuilder.Build(new InitramfsSpec
        {
            BoxBinary = RepoPaths.Box,
            KernelDirectory = RepoPaths.KernelDirectory,
            ConfigFile = configFile,
            AllowInvalidConfig = allowInvalid,
            ExtraExecutables = extraExecutables ?? new Dictionary<string, string>(),
            ExtraTrees = extraTrees ?? new Dictionary<string, string>(),
            Profile = configProfile ? null : InitOs.Init.Config.ModuleProfile.Explicit,
            FirmwareDirectory = firmwareDirectory,
            Compression = Compression.Zstd,
            ZstdLevel = 3,
        }, output);
        return output;
    }

    /// <summary>
    /// An initramfs packing <paramref name="toml"/> as its config (written beside it as NAME.toml);
    /// built once per content: the same name and config again reuse the image.
    /// </summary>
    public string InitramfsWith(string name, string toml, IReadOnlyDictionary<string, string>? extraTrees = null, bool configProfile = false, string firmwareDirectory = "/lib/firmware")
    {
        var config = _dir.File(name + ".toml");
        var image = _dir.File(name + "-initramfs.img");
        if (File.Exists(image) && File.Exists(config) && File.ReadAllText(config) == toml && extraTrees is null)
        {
            return image;
        }
        File.WriteAllText(config, toml);
        return BuildInitramfs(name + "-initramfs.img", config, extraTrees: extraTrees, configProfile: configProfile, firmwareDirectory: firmwareDirectory);
    }

    /// <summary>A private copy of the default root filesystem, for boots that write to it.</summary>
    public string CopyOfRootfs(string name)
    {
        var copy = _dir.File(name);
        File.Copy(Rootfs, copy, overwrite: true);
        return copy;
    }

    public void Dispose() => _dir.Dispose();
}

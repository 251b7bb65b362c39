using InitOs.Init.Logging;
using InitOs.Sys;

namespace InitOs.Init.Modules;

/// <summary>
/// The modules a generic image carries for machines it may meet, beyond the config's own lists,
/// packed by the build in a squashfs image (xz) beside modules.dep. The kernel copies the image
/// into the initramfs as it is, instead of unpacking 60 MB of modules into memory at every boot
/// (most of a second of a QEMU boot under emulation); PID 1 mounts it the first time a module
/// in it is wanted, and a module is decompressed only when it is loaded. The config's modules,
/// and loop and squashfs that mount the store, stay outside it, so a boot that needs only
/// those never mounts it.
/// </summary>
public sealed class ModuleStore
{
    public const string ImageName = "modules.sqfs";

    /// <summary>Where the image is mounted, under the module directory; it holds kernel/… as modules.dep names them.</summary>
    public const string MountDirectory = "store";

    /// <summary>What mounts the store: packed outside it, always.</summary>
    public static readonly IReadOnlyList<string> Mounters = ["loop", "squashfs"];

    private readonly string _moduleDir;
    private readonly BootLog _log;
    private readonly Lock _lock = new();
    private bool _tried;

    public ModuleStore(string moduleDir, BootLog log)
    {
        _moduleDir = moduleDir;
        _log = log;
    }

    /// <summary>The image, or null when this initramfs has none.</summary>
    public string? Image => File.Exists(Path.Combine(_moduleDir, ImageName)) ? Path.Combine(_moduleDir, ImageName) : null;

    public string MountPoint => Path.Combine(_moduleDir, MountDirectory);

    public bool IsMounted { get; private set; }

    /// <summary>Whether a module is outside the store (loads without mounting it).</summary>
    public bool IsOutside(string relativePath) => File.Exists(Path.Combine(_moduleDir, relativePath));

    /// <summary>A module's file: outside the store, or in it (mounted now if it is not yet; once: a failure is logged and not retried).</summary>
    public string Resolve(string relativePath, ModuleLoader loader)
    {
        var plain = Path.Combine(_moduleDir, relativePath);
        if (File.Exists(plain))
        {
            return plain;
        }
        lock (_lock)
        {
            if (!_tried)
            {
                _tried = true;
                TryMount(loader);
            }
        }
        return Path.Combine(MountPoint, relativePath);
    }

    /// <summary>After switch_root the store goes with the initramfs: detached here so its loop device is freed.</summary>
    public void Detach()
    {
        lock (_lock)
        {
            _tried = true;
            if (IsMounted)
            {
                Mounts.Unmount(MountPoint, UnmountFlags.Detach);
                IsMounted = false;
            }
        }
    }

    private void TryMount(ModuleLoader loader)
    {
        if (Image is not { } image)
        {
            return;
        }
        try
        {
            foreach (var module in Mounters)
            {
                loader.Load(module);
            }
            Directory.CreateDirectory(MountPoint);
            using var loop = LoopDevice.AttachReadOnly(image);
            Mounts.Mount(loop.Path, MountPoint, "squashfs", MountFlags.ReadOnly | MountFlags.NoDev | MountFlags.NoSuid, null);
            IsMounted = true;
            _log.Info($"modules: the store {image} ({new FileInfo(image).Length >> 10} KiB) mounted from {loop.Path} on {MountPoint}");
        }
        catch (Exception e) when (e is SysException or ModuleException or IOException)
        {
            _log.Error($"modules: the store {image} cannot be mounted ({e.Message}); only the modules outside it can load");
        }
    }
}

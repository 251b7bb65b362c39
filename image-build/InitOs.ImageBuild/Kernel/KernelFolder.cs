using InitOs.Tools;

namespace InitOs.ImageBuild.Kernel;

/// <summary>
/// A Debian linux-image package unpacked with `dpkg -x`: boot/vmlinuz-VERSION and
/// lib/modules/VERSION. The package has no modules.dep, so depmod -b makes one here.
/// </summary>
public sealed class KernelFolder
{
    private KernelFolder(string root, string version)
    {
        Root = root;
        Version = version;
    }

    public string Root { get; }
    public string Version { get; }
    public string ModuleDirectory => Path.Combine(Root, "lib/modules", Version);
    public string Vmlinuz => Path.Combine(Root, "boot", "vmlinuz-" + Version);

    public static KernelFolder Open(string root)
    {
        var modules = Path.Combine(root, "lib/modules");
        var versions = Directory.Exists(modules) ? Directory.GetDirectories(modules).Select(Path.GetFileName).OfType<string>().ToList() : [];
        if (versions.Count != 1)
        {
            throw new InvalidOperationException($"{root}: expected one kernel under lib/modules (an unpacked linux-image package), found {(versions.Count == 0 ? "none" : string.Join(", ", versions))}");
        }
        var folder = new KernelFolder(root, versions[0]);
        if (!File.Exists(folder.Vmlinuz))
        {
            throw new InvalidOperationException($"{root}: no boot/vmlinuz-{folder.Version}");
        }
        return folder;
    }

    /// <summary>Runs depmod once so modules.dep, modules.alias and modules.builtin exist.</summary>
    public void EnsureDepmod()
    {
        if (!File.Exists(Path.Combine(ModuleDirectory, "modules.dep")))
        {
            ExternalTool.Run("depmod", ["-b", Root, Version]);
        }
    }
}

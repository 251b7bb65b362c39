using System.Diagnostics;
using InitOs.Init.Config;
using InitOs.Init.Modules;

namespace InitOs.ImageBuild.Initramfs;

/// <summary>
/// The squashfs image of the generic profile's modules beyond the config's lists (see
/// <see cref="ModuleStore"/> for why), made with squashfs-tools' mksquashfs: xz with the x86
/// filter and 1 MiB blocks (the smallest of zstd, xz and their block sizes on Debian 12's
/// modules: docs/bench.md), every time and owner fixed so the same inputs give the same bytes.
/// </summary>
public static class ModuleStoreImage
{
    /// <summary>
    /// The modules that go into the store: with profile generic, all but the config's own lists
    /// (load, include) and what mounts the store, each with its dependencies; otherwise none.
    /// </summary>
    public static HashSet<string> Stored(ModuleProfile profile, ModuleIndex index, InitosConfig config, IReadOnlyList<string> closure)
    {
        if (profile != ModuleProfile.Generic)
        {
            return [];
        }
        var outside = config.Modules.Load.Concat(config.Modules.Include).Concat(ModuleStore.Mounters).Where(index.Contains);
        var plain = index.LoadOrder(outside).ToHashSet(StringComparer.Ordinal);
        return closure.Where(m => !plain.Contains(m)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Writes the image of <paramref name="relativePaths"/> (as modules.dep names them) in <paramref name="workDirectory"/>; returns its path.</summary>
    public static string Write(string moduleDirectory, IEnumerable<string> relativePaths, string workDirectory, long mtime)
    {
        var tree = Path.Combine(workDirectory, "tree");
        foreach (var relative in relativePaths)
        {
            var target = Path.Combine(tree, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(moduleDirectory, relative), target);
        }
        var image = Path.Combine(workDirectory, ModuleStore.ImageName);
        var time = mtime.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Run("mksquashfs", tree, image, "-noappend", "-quiet", "-no-progress", "-comp", "xz", "-Xbcj", "x86", "-b", "1M",
            "-no-xattrs", "-all-root", "-mkfs-time", time, "-all-time", time);
        return image;
    }

    internal static void Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The times are given on the command line (the build's own mtime); mksquashfs refuses to
        // run when SOURCE_DATE_EPOCH (which `make` exports for reproducible builds) says it too.
        start.Environment.Remove("SOURCE_DATE_EPOCH");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is needed for squashfs images (the generic profile's module store, OS images): install squashfs-tools ({e.Message})", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()} {output.Result.Trim()}");
            }
        }
    }
}

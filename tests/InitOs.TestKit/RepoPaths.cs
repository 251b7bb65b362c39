namespace InitOs.TestKit;

/// <summary>Where the repository, the published box and the cached kernel are (env vars override).</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Box => Environment.GetEnvironmentVariable("INITOS_BOX") ?? Path.Combine(Root, "out/box/initos");

    /// <summary>The diagnostic that shows two reapers colliding in a .NET PID 1 (make diag).</summary>
    public static string ReaperCollision => Environment.GetEnvironmentVariable("INITOS_REAPER_COLLISION") ?? Path.Combine(Root, "out/diag/reaper-collision");

    public static string KernelDirectory => Environment.GetEnvironmentVariable("INITOS_KERNEL_DIR") ?? Path.Combine(Root, ".cache/kernel");

    /// <summary>Debian's CPU microcode and Realtek firmware, unpacked (make firmware): a build machine's /lib/firmware with them installed.</summary>
    public static string FirmwareDirectory => Environment.GetEnvironmentVariable("INITOS_FIRMWARE_DIR") ?? Path.Combine(Root, ".cache/firmware/lib/firmware");

    public static string DefaultConfig => Path.Combine(Root, "image-build/defaults/initos.toml");

    /// <summary>Logs of failed boots land here (git-ignored).</summary>
    public static string Artifacts
    {
        get
        {
            var dir = Path.Combine(Root, "tests/artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "InitOs.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no InitOs.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Fails with the command that makes a missing prerequisite, instead of skipping.</summary>
    public static string Require(string path, string howToMake) =>
        File.Exists(path) || Directory.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `{howToMake}` (make test does it)");
}

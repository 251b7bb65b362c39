using System.CommandLine;

namespace InitOs.Cli;

/// <summary>Shared plumbing: default paths and turning failures into one clear line and exit code 1.</summary>
internal static class Cli
{
    /// <summary>
    /// Where the CLI lives with what it reads: PREFIX/lib/initos after `make install`, out/ after
    /// `make cli`. Beside its cli/ directory are box/initos and kernel/ (a link to the repository's
    /// kernel cache in out/), so the defaults hold from any working directory.
    /// </summary>
    private static string Home => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, ".."));

    /// <summary>INITOS_KERNEL_DIR; else the kernel installed beside the CLI; else $XDG_CACHE_HOME/initos/kernel.</summary>
    public static string DefaultKernelDirectory =>
        Environment.GetEnvironmentVariable("INITOS_KERNEL_DIR") is { Length: > 0 } set ? set
        : Directory.Exists(Path.Combine(Home, "kernel")) ? Path.Combine(Home, "kernel")
        : Path.Combine(XdgDirectory("XDG_CACHE_HOME", ".cache"), "initos", "kernel");

    /// <summary>INITOS_BOX; else the NativeAOT binary installed (or published) beside the CLI.</summary>
    public static string DefaultBox =>
        Environment.GetEnvironmentVariable("INITOS_BOX") is { Length: > 0 } set ? set : Path.Combine(Home, "box", "initos");

    /// <summary>The default initos.toml, shipped in the CLI's own directory.</summary>
    public static string DefaultConfig => Path.Combine(AppContext.BaseDirectory, "defaults", "initos.toml");

    /// <summary>A key set's default directory: $XDG_CONFIG_HOME/initos/keys/NAME (~/.config/initos/keys/NAME).</summary>
    /// <summary>~/.cache/initos ($XDG_CACHE_HOME): the kernel, the registry's blobs.</summary>
    public static string CacheDirectory => Path.Combine(XdgDirectory("XDG_CACHE_HOME", ".cache"), "initos");

    public static string KeySetDirectory(string name) => Path.Combine(XdgDirectory("XDG_CONFIG_HOME", ".config"), "initos", "keys", name);

    private static string XdgDirectory(string variable, string underHome) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } set ? set
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), underHome);

    /// <summary>Refuses up front, saying why, what only root can do (instead of failing halfway).</summary>
    public static void RequireRoot(string what, string why)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new UnauthorizedAccessException($"{what}: needs root ({why}); run it with sudo");
        }
    }

    public static int Invoke(RootCommand root, string[] args)
    {
        try
        {
            // Our handler, not System.CommandLine's: a bad input is one line naming it, not a stack trace.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or InitOs.Init.Config.ConfigException
            or InitOs.Efi.Pe.PeFormatException or InitOs.Efi.Signing.KeyException or InitOs.Sidecar.Upgrades.BundleException)
        {
            Console.Error.WriteLine($"initos: {e.Message}");
            return 1;
        }
    }

    public static Option<T> Option<T>(string name, string description, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue();
        }
        return option;
    }
}

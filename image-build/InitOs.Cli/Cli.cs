using System.CommandLine;

namespace InitOs.Cli;

/// <summary>Shared plumbing: default paths and turning failures into one clear line and exit code 1.</summary>
internal static class Cli
{
    /// <summary>Where `make kernel` unpacks the Debian kernel (override with INITOS_KERNEL_DIR).</summary>
    public static string DefaultKernelDirectory =>
        Environment.GetEnvironmentVariable("INITOS_KERNEL_DIR") ?? Path.GetFullPath(".cache/kernel");

    /// <summary>Where `make box` publishes the NativeAOT binary (override with INITOS_BOX).</summary>
    public static string DefaultBox =>
        Environment.GetEnvironmentVariable("INITOS_BOX") ?? Path.GetFullPath("out/box/initos");

    public static int Invoke(RootCommand root, string[] args)
    {
        try
        {
            // Our handler, not System.CommandLine's: a bad input is one line naming it, not a stack trace.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException or InitOs.Init.Config.ConfigException
            or InitOs.Efi.Pe.PeFormatException or InitOs.Efi.Signing.KeyException)
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

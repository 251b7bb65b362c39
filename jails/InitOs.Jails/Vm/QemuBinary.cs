namespace InitOs.Jails.Vm;

/// <summary>
/// How to start QEMU: the file to execute, the argv words before QEMU's own options (a kit's
/// loader runs QEMU with the kit's libraries), its environment and its firmware directory.
/// </summary>
public sealed record QemuBinary(string Executable, IReadOnlyList<string> Prefix, IReadOnlyList<string> Environment, string? FirmwareDirectory)
{
    public const string Name = "qemu-system-x86_64";

    /// <summary>The dynamic loader of a staged kit: QEMU runs under it with the kit's libraries.</summary>
    public const string Loader = "ld-linux-x86-64.so.2";

    /// <summary>QEMU as the system installed it, found on PATH (and in /usr/bin, /usr/local/bin).</summary>
    public static QemuBinary Installed()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        var found = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/local/bin", "/usr/bin"])
            .Select(dir => System.IO.Path.Combine(dir, Name))
            .FirstOrDefault(File.Exists)
            ?? throw new JailVmException($"{Name} is not on PATH ({path}): install qemu-system-x86");
        return new QemuBinary(found, [Name], InheritedEnvironment(), null);
    }

    /// <summary>The QEMU a <see cref="VmSpec"/> names: under the kit's loader when it has one.</summary>
    public static QemuBinary Of(VmSpec spec)
    {
        var environment = new List<string> { "PATH=/usr/sbin:/usr/bin:/sbin:/bin" };
        if (spec.ModuleDirectory is { } modules)
        {
            environment.Add("QEMU_MODULE_DIR=" + modules);
        }
        if (spec.TemporaryDirectory is { } temporary)
        {
            environment.Add("TMPDIR=" + temporary);
        }
        return spec.LibraryDirectory is { } lib
            ? new QemuBinary(System.IO.Path.Combine(lib, Loader), [Loader, "--library-path", lib, spec.Qemu], environment, spec.FirmwareDirectory)
            : new QemuBinary(spec.Qemu, [System.IO.Path.GetFileName(spec.Qemu)], environment, spec.FirmwareDirectory);
    }

    /// <summary>argv: the prefix, then -L for the firmware directory, then <paramref name="options"/>.</summary>
    public IReadOnlyList<string> Arguments(IEnumerable<string> options)
    {
        var args = new List<string>(Prefix);
        if (FirmwareDirectory is { } firmware)
        {
            args.AddRange(["-L", firmware]);
        }
        args.AddRange(options);
        return args;
    }

    private static List<string> InheritedEnvironment() =>
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();
}

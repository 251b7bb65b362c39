using System.Globalization;

namespace InitOs.Init.Config;

/// <summary>Combines the config file and the kernel command line into <see cref="BootSettings"/>.</summary>
public static class SettingsBuilder
{
    /// <summary>The initos.* keys the command line understands.</summary>
    public static readonly IReadOnlyList<string> InitosKeys = ["initos.mode", "initos.break", "initos.rootwait", "initos.on_failure", "initos.data", "initos.ssh_key", VmStartsKey];

    /// <summary>Set by a host in mode vm on its guest's command line: which start of the guest this is (for the guest's own use).</summary>
    public const string VmStartsKey = "initos.vm_starts";

    /// <summary>Only the failure policy, for when the config itself cannot be read.</summary>
    public static FailurePolicy PolicyFrom(KernelCommandLine cmdline, FailurePolicy fallback) =>
        cmdline.Last("initos.on_failure") is { } v && ConfigNames.Policies.TryGetValue(v, out var p) ? p : fallback;

    public static BootSettings Build(InitosConfig config, KernelCommandLine cmdline)
    {
        var warnings = new List<string>();
        foreach (var key in cmdline.Parameters.Select(p => p.Key).Where(k => k.StartsWith("initos.", StringComparison.Ordinal)).Distinct())
        {
            if (!InitosKeys.Contains(key))
            {
                warnings.Add($"unknown kernel parameter {key} ignored (known: {string.Join(", ", InitosKeys)})");
            }
        }
        var data = Data(config.Data, cmdline);
        var sidecar = config.Sidecar with
        {
            AuthorizedKeys = [.. config.Sidecar.AuthorizedKeys, .. CommandLineKeys(config.Sidecar, cmdline, warnings)],
            HostKeyDirectory = config.Sidecar.HostKeyDirectory ?? (data is null ? null : DataConfig.State("ssh")),
        };
        return new BootSettings
        {
            Mode = Choice(cmdline, "initos.mode", ConfigNames.Modes, config.Mode),
            OnFailure = Choice(cmdline, "initos.on_failure", ConfigNames.Policies, config.OnFailure),
            Root = Value(cmdline, "root") ?? config.Root.Device,
            RootFsType = Value(cmdline, "rootfstype") ?? config.Root.FsType,
            RootFlags = Value(cmdline, "rootflags") ?? config.Root.Options,
            ReadWrite = ReadWrite(cmdline, config.Root.ReadWrite),
            RootWait = TimeSpan.FromSeconds(Seconds(cmdline, "initos.rootwait") ?? config.Root.WaitSeconds),
            Init = InitPath(cmdline) ?? config.Root.Init,
            InitArguments = cmdline.InitArguments,
            Consoles = cmdline.All("console").ToList(),
            Modules = config.Modules.Load,
            Coldplug = config.Modules.Coldplug,
            ColdplugFirst = [.. config.Modules.Load, .. config.Modules.Include],
            Services = config.Services,
            Sidecar = sidecar,
            Data = data,
            Os = config.Os,
            Vm = config.Vm,
            Recovery = config.Recovery,
            Upgrade = config.Upgrade,
            Crypt = [.. config.Crypt, .. CommandLineVolumes(config.Crypt, cmdline)],
            Raid = config.Raid,
            Lvm = config.Lvm,
            ShutdownGrace = TimeSpan.FromSeconds(config.ShutdownGraceSeconds),
            BreakBefore = cmdline.Last("initos.break") is { } b ? (b.Length == 0 ? "switch-root" : b) : null,
            Network = cmdline.Last("ip") is { } ip ? IpParameter.Parse(ip, config.Network) : config.Network,
            Warnings = warnings,
        };
    }

    /// <summary>initos.data=SPEC names (or, with "none", removes) the data volume.</summary>
    private static DataConfig? Data(DataConfig config, KernelCommandLine cmdline)
    {
        var device = Value(cmdline, "initos.data") ?? config.Device;
        if (device is null or "none")
        {
            return null;
        }
        try
        {
            Devices.RootSpec.Parse(device);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"kernel command line: initos.data={device}: {e.Message}");
        }
        return config with { Device = device };
    }

    /// <summary>
    /// rd.luks.name=UUID=NAME (systemd's form, repeatable): a LUKS2 volume by its header's UUID,
    /// opened as /dev/mapper/NAME with the default key sources, besides the config's [[crypt]].
    /// Safe without Secure Boot: naming a volume to open gives no key to it.
    /// </summary>
    private static IEnumerable<CryptConfig> CommandLineVolumes(IReadOnlyList<CryptConfig> configured, KernelCommandLine cmdline)
    {
        var names = configured.Select(v => v.Name).ToHashSet();
        foreach (var value in cmdline.All("rd.luks.name"))
        {
            int split = value.IndexOf('=', StringComparison.Ordinal);
            var (uuid, name) = split < 0 ? (value, "") : (value[..split], value[(split + 1)..]);
            if (!Guid.TryParse(uuid, out _) || name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new ConfigException($"kernel command line: rd.luks.name={value}: expected UUID=NAME (the LUKS header's UUID, a /dev/mapper name of letters, digits, '-' and '_')");
            }
            if (!names.Add(name))
            {
                throw new ConfigException($"kernel command line: rd.luks.name={value}: a volume named {name} is already opened ([[crypt]] or an earlier rd.luks.name)");
            }
            yield return new CryptConfig { Device = $"UUID={uuid.ToLowerInvariant()}", Name = name };
        }
    }

    /// <summary>
    /// initos.ssh_key="ssh-ed25519 AAAA… comment", as often as needed, taken only when the signed
    /// config allows it: without Secure Boot anyone at the boot loader can edit the command line.
    /// </summary>
    private static IEnumerable<string> CommandLineKeys(SidecarConfig sidecar, KernelCommandLine cmdline, List<string> warnings)
    {
        var keys = cmdline.All("initos.ssh_key").ToList();
        if (keys.Count > 0 && !sidecar.CommandLineKeys)
        {
            warnings.Add($"{keys.Count} initos.ssh_key parameter(s) ignored: sidecar.cmdline_keys is off in the config");
            return [];
        }
        return keys.Select(key => PublicKeys.IsPublicKey(key)
            ? key.Trim()
            : throw new ConfigException($"kernel command line: initos.ssh_key=\"{PublicKeys.Shorten(key)}\": not a public key like \"ssh-ed25519 AAAA… comment\""));
    }

    private static string? Value(KernelCommandLine cmdline, string key) =>
        cmdline.Last(key) is { Length: > 0 } v ? v : null;

    private static bool ReadWrite(KernelCommandLine cmdline, bool fallback)
    {
        int ro = cmdline.LastIndexOf("ro"), rw = cmdline.LastIndexOf("rw");
        return ro < 0 && rw < 0 ? fallback : rw > ro;
    }

    private static string? InitPath(KernelCommandLine cmdline)
    {
        var value = Value(cmdline, "init");
        return value is null || value.StartsWith('/')
            ? value
            : throw new ConfigException($"kernel command line: init={value}: expected an absolute path");
    }

    private static int? Seconds(KernelCommandLine cmdline, string key)
    {
        var value = cmdline.Last(key);
        if (value is null)
        {
            return null;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s <= 3600
            ? s
            : throw new ConfigException($"kernel command line: {key}={value}: expected whole seconds 0..3600");
    }

    private static T Choice<T>(KernelCommandLine cmdline, string key, IReadOnlyDictionary<string, T> names, T fallback)
    {
        var value = cmdline.Last(key);
        if (value is null)
        {
            return fallback;
        }
        return names.TryGetValue(value, out var parsed)
            ? parsed
            : throw new ConfigException($"kernel command line: {key}={value}: expected one of {string.Join(", ", names.Keys)}");
    }
}

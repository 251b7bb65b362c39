using Tomlyn.Syntax;

namespace InitOs.Init.Config;

/// <summary>
/// Maps the TOML entries onto <see cref="InitosConfig"/>. The schema is a table of
/// key → setter, so an unknown key is simply a key missing from the table.
/// </summary>
public static class ConfigLoader
{
    private delegate InitosConfig Setter(InitosConfig config, TomlEntry entry, string file);

    private static readonly Dictionary<string, Setter> Schema = new()
    {
        ["mode"] = (c, e, f) => c with { Mode = Enum(e, f, ConfigNames.Modes) },
        ["on_failure"] = (c, e, f) => c with { OnFailure = Enum(e, f, ConfigNames.Policies) },
        ["root.device"] = (c, e, f) => c with { Root = c.Root with { Device = NonEmpty(e, f) } },
        ["root.fstype"] = (c, e, f) => c with { Root = c.Root with { FsType = NonEmpty(e, f) } },
        ["root.options"] = (c, e, f) => c with { Root = c.Root with { Options = Str(e, f) } },
        ["root.read_write"] = (c, e, f) => c with { Root = c.Root with { ReadWrite = Bool(e, f) } },
        ["root.wait_seconds"] = (c, e, f) => c with { Root = c.Root with { WaitSeconds = Int(e, f, 0, 3600) } },
        ["root.init"] = (c, e, f) => c with { Root = c.Root with { Init = AbsolutePath(e, f) } },
        ["modules.load"] = (c, e, f) => c with { Modules = c.Modules with { Load = ModuleNames(e, f) } },
        ["modules.include"] = (c, e, f) => c with { Modules = c.Modules with { Include = ModuleNames(e, f) } },
        ["modules.profile"] = (c, e, f) => c with { Modules = c.Modules with { Profile = Enum(e, f, ConfigNames.ModuleProfiles) } },
        ["modules.coldplug"] = (c, e, f) => c with { Modules = c.Modules with { Coldplug = Bool(e, f) } },
        ["network.mode"] = (c, e, f) => c with { Network = c.Network with { Mode = Enum(e, f, ConfigNames.NetworkModes) }, NetworkLine = e.Line },
        ["network.interface"] = (c, e, f) => c with { Network = c.Network with { Interface = NonEmpty(e, f) } },
        ["network.address"] = (c, e, f) => Address(c, e, f),
        ["network.gateway"] = (c, e, f) => c with { Network = c.Network with { Gateway = Ipv4(e, f, Str(e, f)) } },
        ["network.dns"] = (c, e, f) => c with { Network = c.Network with { Dns = Strings(e, f).Select(d => Ipv4(e, f, d)).ToList() } },
        ["network.wait_seconds"] = (c, e, f) => c with { Network = c.Network with { Wait = TimeSpan.FromSeconds(Int(e, f, 1, 600)) } },
        ["sidecar.ssh"] = (c, e, f) => c with { Sidecar = c.Sidecar with { Ssh = Bool(e, f) } },
        ["sidecar.port"] = (c, e, f) => c with { Sidecar = c.Sidecar with { Port = Int(e, f, 1, 65535) } },
        ["sidecar.authorized_keys"] = (c, e, f) => c with { Sidecar = c.Sidecar with { AuthorizedKeys = PublicKeys(e, f) } },
        ["sidecar.host_key_dir"] = (c, e, f) => c with { Sidecar = c.Sidecar with { HostKeyDirectory = AbsolutePath(e, f) } },
        ["sidecar.listen"] = (c, e, f) => c with { Sidecar = c.Sidecar with { Listen = InterfaceNames(e, f) } },
        ["sidecar.admin.*"] = (c, e, f) => c with { Sidecar = c.Sidecar with { Admins = [.. c.Sidecar.Admins, new AdminKey { Line = e.Line }] } },
        ["sidecar.admin.*.key"] = (c, e, f) => Admin(c, e, a => a with { Key = AdminPublicKey(e, f, c) }),
        ["sidecar.admin.*.role"] = (c, e, f) => Admin(c, e, a => a with { Role = Enum(e, f, ConfigNames.AdminRoles) }),
        ["sidecar.start"] = (c, e, f) => c with { Sidecar = c.Sidecar with { Start = Enum(e, f, ConfigNames.SidecarStarts) } },
        ["sidecar.cmdline_keys"] = (c, e, f) => c with { Sidecar = c.Sidecar with { CommandLineKeys = Bool(e, f) } },
        ["data.device"] = (c, e, f) => c with { Data = c.Data with { Device = DeviceSpec(e, f) } },
        ["data.fstype"] = (c, e, f) => c with { Data = c.Data with { FsType = NonEmpty(e, f) } },
        ["data.options"] = (c, e, f) => c with { Data = c.Data with { Options = Str(e, f) } },
        ["data.wait_seconds"] = (c, e, f) => c with { Data = c.Data with { WaitSeconds = Int(e, f, 0, 3600) } },
        ["os.image"] = (c, e, f) => c with { Os = c.Os with { Image = ImageName(e, f) } },
        ["os.image_digest"] = (c, e, f) => c with { Os = c.Os with { ImageDigest = ImageDigest(e, f), ImageDigestLine = e.Line } },
        ["os.hostname"] = (c, e, f) => c with { Os = c.Os with { Hostname = NonEmpty(e, f) } },
        ["os.keep_upper"] = (c, e, f) => c with { Os = c.Os with { KeepUpper = Bool(e, f) } },
        ["os.on_reboot"] = (c, e, f) => c with { Os = c.Os with { OnReboot = Enum(e, f, ConfigNames.OsExitActions) } },
        ["os.on_poweroff"] = (c, e, f) => c with { Os = c.Os with { OnPowerOff = Enum(e, f, ConfigNames.OsExitActions) } },
        ["os.stop_signal"] = (c, e, f) => c with { Os = c.Os with { StopSignal = SignalNumber(e, f) } },
        ["os.stop_grace_seconds"] = (c, e, f) => c with { Os = c.Os with { StopGraceSeconds = Int(e, f, 0, 3600) } },
        ["os.network"] = (c, e, f) => c with { Os = c.Os with { Network = Enum(e, f, ConfigNames.OsNetworks) } },
        ["os.pool_slots"] = (c, e, f) => c with { Os = c.Os with { PoolSlots = Int(e, f, 1, 64) } },
        ["os.memory_max_mib"] = (c, e, f) => c with { Os = c.Os with { MemoryMaxMiB = Int(e, f, 32, 1 << 24) } },
        ["os.pids_max"] = (c, e, f) => c with { Os = c.Os with { PidsMax = Int(e, f, 16, 1 << 22) } },
        ["os.tmp_size_mib"] = (c, e, f) => c with { Os = c.Os with { TmpSizeMiB = Int(e, f, 1, 1 << 24) } },
        ["os.run_size_mib"] = (c, e, f) => c with { Os = c.Os with { RunSizeMiB = Int(e, f, 1, 1 << 24) } },
        ["os.pool_quota_mib"] = (c, e, f) => c with { Os = c.Os with { PoolQuotaMiB = Int(e, f, 16, 1 << 24) } },
        ["vm.kit"] = (c, e, f) => c with { Vm = c.Vm with { Kit = RelativePath(e, f) } },
        ["vm.machine"] = (c, e, f) => c with { Vm = c.Vm with { Machine = Enum(e, f, ConfigNames.VmMachines) } },
        ["vm.memory_mib"] = (c, e, f) => c with { Vm = c.Vm with { MemoryMiB = Int(e, f, 64, 1 << 20) } },
        ["vm.cpus"] = (c, e, f) => c with { Vm = c.Vm with { Cpus = Int(e, f, 1, 256) } },
        ["vm.accel"] = (c, e, f) => c with { Vm = c.Vm with { Accel = Enum(e, f, ConfigNames.VmAccels) } },
        ["vm.append"] = (c, e, f) => c with { Vm = c.Vm with { Append = Str(e, f) } },
        ["upgrade.keys"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Keys = BundleKeys(e, f) } },
        ["upgrade.compatible"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Compatible = MachineClass(e, f) } },
        ["upgrade.min_version"] = (c, e, f) => c with { Upgrade = c.Upgrade with { MinVersion = Version(e, f) } },
        ["upgrade.version"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Version = Version(e, f) } },
        ["upgrade.tries"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Tries = Int(e, f, 1, 9) } },
        ["upgrade.keep_previous"] = (c, e, f) => c with { Upgrade = c.Upgrade with { KeepPrevious = Int(e, f, 0, 8) } },
        ["upgrade.settle_seconds"] = (c, e, f) => c with { Upgrade = c.Upgrade with { SettleSeconds = Int(e, f, 0, 3600) } },
        ["upgrade.deadline_seconds"] = (c, e, f) => c with { Upgrade = c.Upgrade with { DeadlineSeconds = Int(e, f, 1, 86400) } },
        ["upgrade.watchdog_seconds"] = (c, e, f) => c with { Upgrade = c.Upgrade with { WatchdogSeconds = Int(e, f, 0, 86400) } },
        ["upgrade.policy"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Policy = Enum(e, f, ConfigNames.UpgradePolicies) } },
        ["upgrade.registry"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Registry = RegistryRepository(e, f) } },
        ["upgrade.registry_plain_http"] = (c, e, f) => c with { Upgrade = c.Upgrade with { RegistryPlainHttp = Hosts(e, f) } },
        ["upgrade.registry_ca"] = (c, e, f) => c with { Upgrade = c.Upgrade with { RegistryCa = PemCertificates(e, f) } },
        ["upgrade.registry_pin"] = (c, e, f) => c with { Upgrade = c.Upgrade with { RegistryPin = CertificatePin(e, f) } },
        ["upgrade.probe.*"] = (c, e, f) => c with { Upgrade = c.Upgrade with { Probes = [.. c.Upgrade.Probes, new UpgradeProbe { Line = e.Line }] } },
        ["upgrade.probe.*.tcp"] = (c, e, f) => Probe(c, e, p => p with { Tcp = TcpEndpoint(e, f) }),
        ["upgrade.probe.*.http"] = (c, e, f) => Probe(c, e, p => p with { Http = HttpUrl(e, f) }),
        ["upgrade.probe.*.command"] = (c, e, f) => Probe(c, e, p => p with { Command = ProbeCommand(e, f) }),
        ["crypt.*"] = (c, e, f) => c with { Crypt = [.. c.Crypt, new CryptConfig { Line = e.Line }] },
        ["crypt.*.device"] = (c, e, f) => Crypt(c, e, v => v with { Device = DeviceSpec(e, f) }),
        ["crypt.*.name"] = (c, e, f) => Crypt(c, e, v => v with { Name = MapperName(e, f, c) }),
        ["crypt.*.keys"] = (c, e, f) => Crypt(c, e, v => v with { Keys = KeySources(e, f) }),
        ["crypt.*.tries"] = (c, e, f) => Crypt(c, e, v => v with { Tries = Int(e, f, 1, 10) }),
        ["crypt.*.wait_seconds"] = (c, e, f) => Crypt(c, e, v => v with { WaitSeconds = Int(e, f, 0, 3600) }),
        ["raid.*"] = (c, e, f) => c with { Raid = [.. c.Raid, new RaidConfig { Line = e.Line }] },
        ["raid.*.uuid"] = (c, e, f) => Raid(c, e, v => v with { Uuid = MdUuid(e, f) }),
        ["raid.*.name"] = (c, e, f) => Raid(c, e, v => v with { Name = ArrayName(e, f, c) }),
        ["raid.*.wait_seconds"] = (c, e, f) => Raid(c, e, v => v with { WaitSeconds = Int(e, f, 0, 3600) }),
        ["lvm.*"] = (c, e, f) => c with { Lvm = [.. c.Lvm, new LvmConfig { Line = e.Line }] },
        ["lvm.*.vg"] = (c, e, f) => Lvm(c, e, v => v with { VolumeGroup = VolumeGroupName(e, f, c) }),
        ["lvm.*.wait_seconds"] = (c, e, f) => Lvm(c, e, v => v with { WaitSeconds = Int(e, f, 0, 3600) }),
        ["recovery.password_hash"] = (c, e, f) => c with { Recovery = c.Recovery with { PasswordHash = CryptHash(e, f) } },
        ["shutdown.grace_seconds"] = (c, e, f) => c with { ShutdownGraceSeconds = Int(e, f, 0, 600) },
        ["service.*"] = (c, e, f) => c with { Services = [.. c.Services, new ServiceConfig { Line = e.Line }] },
        ["service.*.name"] = (c, e, f) => Service(c, e, s => s with { Name = ServiceName(e, f, c) }),
        ["service.*.command"] = (c, e, f) => Service(c, e, s => s with { Command = Command(e, f) }),
        ["service.*.console"] = (c, e, f) => Service(c, e, s => s with { Console = Bool(e, f) }),
        ["service.*.restart"] = (c, e, f) => Service(c, e, s => s with { Restart = Enum(e, f, ConfigNames.Restarts) }),
        ["service.*.stop_grace_seconds"] = (c, e, f) => Service(c, e, s => s with { StopGraceSeconds = Int(e, f, 0, 600) }),
    };

    public static IEnumerable<string> Keys => Schema.Keys;

    public static InitosConfig Load(string path) => Parse(File.ReadAllText(path), path);

    public static InitosConfig Parse(string text, string file)
    {
        var config = new InitosConfig();
        foreach (var entry in TomlEntries.Parse(text, file))
        {
            if (!Schema.TryGetValue(SchemaKey(entry.Key), out var set))
            {
                throw new ConfigException(file, entry.Line, entry.Key, $"unknown key (known keys: {string.Join(", ", Schema.Keys.Where(k => !k.EndsWith(".*", StringComparison.Ordinal)))})");
            }
            config = set(config, entry, file);
        }
        foreach (var service in config.Services)
        {
            CheckComplete(service, file);
        }
        foreach (var admin in config.Sidecar.Admins.Where(a => a.Key.Length == 0))
        {
            throw new ConfigException(file, admin.Line, "sidecar.admin", "a [[sidecar.admin]] needs a key");
        }
        if (config.Network.Mode == NetworkMode.Static && config.Network.Address is null)
        {
            throw new ConfigException(file, config.NetworkLine, "network.mode", "mode = \"static\" needs an address like \"192.168.1.10/24\"");
        }
        foreach (var probe in config.Upgrade.Probes.Where(p => new[] { p.Tcp, p.Http, p.Command }.Count(v => v is not null) != 1))
        {
            throw new ConfigException(file, probe.Line, "upgrade.probe", "an [[upgrade.probe]] needs exactly one of tcp = \"HOST:PORT\", http = \"http://…\" or command = \"WORDS\" (run in the jailed OS)");
        }
        foreach (var probe in config.Upgrade.Probes.Where(p => p.Command is not null && config.Mode == BootMode.Vm))
        {
            throw new ConfigException(file, probe.Line, "upgrade.probe", "a command probe runs in a jailed OS, and in mode vm the OS is a guest with its own kernel: probe its address with tcp = \"HOST:PORT\" or http = \"http://…\"");
        }
        foreach (var array in config.Raid.Where(v => v.Uuid is null || v.Name is null))
        {
            throw new ConfigException(file, array.Line, "raid", "a [[raid]] array needs uuid = \"UUID\" (mdadm --detail's) and name = \"NAME\" (its /dev/md name)");
        }
        foreach (var group in config.Lvm.Where(v => v.VolumeGroup is null))
        {
            throw new ConfigException(file, group.Line, "lvm", "an [[lvm]] table needs vg = \"NAME\" (the volume group to activate)");
        }
        foreach (var volume in config.Crypt.Where(v => v.Device is null || v.Name is null))
        {
            throw new ConfigException(file, volume.Line, "crypt", "a [[crypt]] volume needs device = \"SPEC\" (its LUKS2 device) and name = \"NAME\" (its /dev/mapper name)");
        }
        if (config.Os.ImageDigest is not null && config.Os.Image is null)
        {
            throw new ConfigException(file, config.Os.ImageDigestLine, "os.image_digest", "pins the manifest of os.image, and no os.image is set (the root device is not checked this way)");
        }
        return config;
    }

    /// <summary>"service.3.name" is looked up as "service.*.name", "sidecar.admin.0.key" as "sidecar.admin.*.key".</summary>
    private static string SchemaKey(string key) =>
        string.Join('.', key.Split('.').Select(part => part.Length > 0 && part.All(char.IsAsciiDigit) ? "*" : part));

    private static InitosConfig Admin(InitosConfig config, TomlEntry entry, Func<AdminKey, AdminKey> change)
    {
        int index = int.Parse(entry.Key.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture);
        var admins = config.Sidecar.Admins.ToList();
        admins[index] = change(admins[index]);
        return config with { Sidecar = config.Sidecar with { Admins = admins } };
    }

    /// <summary>A public key listed once only: a second listing could only mean a second role.</summary>
    private static string AdminPublicKey(TomlEntry e, string file, InitosConfig config)
    {
        var key = PublicKeys(e, file, [Str(e, file)])[0];
        var blob = key.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return config.Sidecar.AllAdmins.Any(a => a.Key.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == blob)
            ? throw Bad(e, file, $"\"{Config.PublicKeys.Shorten(key)}\" is listed already; a key has one role")
            : key;
    }

    private static InitosConfig Probe(InitosConfig config, TomlEntry entry, Func<UpgradeProbe, UpgradeProbe> change)
    {
        int index = int.Parse(entry.Key.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture);
        var probes = config.Upgrade.Probes.ToList();
        probes[index] = change(probes[index]);
        return config with { Upgrade = config.Upgrade with { Probes = probes } };
    }

    /// <summary>"ADDRESS:PORT": an IPv4 address (the judge looks no names up: a lookup could hang it) and a port 1-65535.</summary>
    private static string TcpEndpoint(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        int colon = value.LastIndexOf(':');
        return colon > 0 && HttpProbeUrl.IsIpv4(value[..colon]) && int.TryParse(value[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? value
            : throw Bad(e, file, $"\"{value}\" is not ADDRESS:PORT with an IPv4 address, such as \"127.0.0.1:8080\"");
    }

    /// <summary>"HOST[:PORT]/REPOSITORY": the registry named (a dot, a port or localhost), the repository in the OCI grammar.</summary>
    private static string RegistryRepository(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        int slash = value.IndexOf('/', StringComparison.Ordinal);
        var host = slash > 0 ? value[..slash] : "";
        var repository = slash > 0 ? value[(slash + 1)..] : "";
        bool hostOk = host.Contains('.', StringComparison.Ordinal) || host.Contains(':', StringComparison.Ordinal) || host == "localhost";
        bool repositoryOk = repository.Length > 0 && repository.Split('/').All(c => c.Length > 0 && (char.IsAsciiLetterLower(c[0]) || char.IsAsciiDigit(c[0]))
            && c.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '.' or '_' or '-'));
        return hostOk && repositoryOk ? value : throw Bad(e, file, $"\"{value}\" is not REGISTRY/REPOSITORY such as \"registry.example:5000/initos/servers\" (no tag: `upgrade apply --from` gives it)");
    }

    /// <summary>
    /// PEM text with at least one certificate and nothing but certificates. Only its form is
    /// checked here: PID 1 does not load OpenSSL to read a config; the certificates are parsed
    /// when a registry is reached.
    /// </summary>
    private static string PemCertificates(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
        var blocks = value.Split(begin);
        bool ok = blocks.Length > 1 && string.IsNullOrWhiteSpace(blocks[0]) && blocks.Skip(1).All(b => b.Split(end) is [var body, var after] && string.IsNullOrWhiteSpace(after)
            && body.Where(ch => !char.IsWhiteSpace(ch)).All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '+' or '/' or '='));
        return ok ? value : throw Bad(e, file, "expected PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----, in a \"\"\" string), nothing else");
    }

    /// <summary>The SHA-256 of a certificate's DER bytes: 64 hex digits, colons allowed between pairs.</summary>
    private static string CertificatePin(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file).Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        return value.Length == 64 && value.All(char.IsAsciiHexDigit) ? value : throw Bad(e, file, "expected the SHA-256 of the registry's certificate (64 hex digits: openssl x509 -outform DER | sha256sum)");
    }

    /// <summary>Host names or IPv4 addresses (no ports, no schemes).</summary>
    private static IReadOnlyList<string> Hosts(TomlEntry e, string file)
    {
        var hosts = Strings(e, file);
        foreach (var host in hosts)
        {
            if (host.Length == 0 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
            {
                throw Bad(e, file, $"\"{host}\" is not a host name or IPv4 address (no port, no scheme)");
            }
        }
        return hosts;
    }

    /// <summary>A shell command line for the jailed OS: one line, at most 1024 characters.</summary>
    private static string ProbeCommand(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        return value.Length <= 1024 && !value.Any(char.IsControl)
            ? value
            : throw Bad(e, file, "a probe's command is one line of at most 1024 characters, such as \"systemctl is-system-running\"");
    }

    /// <summary>A plain-HTTP URL to an IPv4 address (the probe speaks HTTP/1.0 itself; the initramfs has no TLS, the judge no name lookup).</summary>
    private static string HttpUrl(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        return HttpProbeUrl.TryParse(value) is not null
            ? value
            : throw Bad(e, file, $"\"{value}\" is not an http:// URL to an IPv4 address such as \"http://10.88.0.2/health\" (no https: the initramfs has no TLS)");
    }

    private static InitosConfig Service(InitosConfig config, TomlEntry entry, Func<ServiceConfig, ServiceConfig> change) =>
        config with { Services = Changed(config.Services, entry, change) };

    private static InitosConfig Crypt(InitosConfig config, TomlEntry entry, Func<CryptConfig, CryptConfig> change) =>
        config with { Crypt = Changed(config.Crypt, entry, change) };

    private static InitosConfig Raid(InitosConfig config, TomlEntry entry, Func<RaidConfig, RaidConfig> change) =>
        config with { Raid = Changed(config.Raid, entry, change) };

    private static InitosConfig Lvm(InitosConfig config, TomlEntry entry, Func<LvmConfig, LvmConfig> change) =>
        config with { Lvm = Changed(config.Lvm, entry, change) };

    /// <summary>An array of tables' element changed: the one the key's index names ("crypt.1.name" → the second).</summary>
    private static List<T> Changed<T>(IReadOnlyList<T> items, TomlEntry entry, Func<T, T> change)
    {
        int index = int.Parse(entry.Key.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
        var list = items.ToList();
        list[index] = change(list[index]);
        return list;
    }

    /// <summary>An md array UUID: 32 hex digits, in mdadm's groups of eight (':') or blkid's 8-4-4-4-12 ('-'); kept in mdadm's form.</summary>
    private static string MdUuid(TomlEntry e, string file)
    {
        var text = NonEmpty(e, file);
        var hex = text.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        if (hex.Length != 32 || !hex.All(char.IsAsciiHexDigit))
        {
            throw Bad(e, file, $"\"{text}\": an md array UUID (32 hex digits, as mdadm --detail prints it: xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx)");
        }
        return string.Join(':', Enumerable.Range(0, 4).Select(i => hex.Substring(8 * i, 8)));
    }

    /// <summary>An md array name (/dev/md/NAME): letters, digits, '-' and '_', unique among the [[raid]] arrays.</summary>
    private static string ArrayName(TomlEntry e, string file, InitosConfig config)
    {
        var name = NonEmpty(e, file);
        if (name.Length > 32 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_'))
        {
            throw Bad(e, file, $"\"{name}\": an md array name of at most 32 letters, digits, '-' and '_'");
        }
        return config.Raid.Any(v => v.Name == name) ? throw Bad(e, file, $"a [[raid]] array named \"{name}\" already exists") : name;
    }

    /// <summary>A volume group name as LVM takes it: letters, digits, '+', '_', '.', '-' (not first).</summary>
    private static string VolumeGroupName(TomlEntry e, string file, InitosConfig config)
    {
        var name = NonEmpty(e, file);
        if (name.Length > 64 || name[0] == '-' || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '+' or '_' or '.' or '-'))
        {
            throw Bad(e, file, $"\"{name}\": a volume group name of at most 64 letters, digits, '+', '_', '.' and '-' (not first)");
        }
        return config.Lvm.Any(v => v.VolumeGroup == name) ? throw Bad(e, file, $"the volume group \"{name}\" is listed twice") : name;
    }

    /// <summary>A /dev/mapper name: letters, digits, '-' and '_', unique among the [[crypt]] volumes.</summary>
    private static string MapperName(TomlEntry e, string file, InitosConfig config)
    {
        var name = NonEmpty(e, file);
        if (name.Length > 64 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_'))
        {
            throw Bad(e, file, $"\"{name}\": a /dev/mapper name of at most 64 letters, digits, '-' and '_'");
        }
        return config.Crypt.Any(v => v.Name == name) ? throw Bad(e, file, $"a [[crypt]] volume named \"{name}\" already exists") : name;
    }

    private static IReadOnlyList<CryptKeySource> KeySources(TomlEntry e, string file)
    {
        var names = Strings(e, file);
        var sources = new List<CryptKeySource>();
        foreach (var name in names)
        {
            if (!ConfigNames.CryptKeySources.TryGetValue(name, out var source))
            {
                throw Bad(e, file, $"\"{name}\" is not a key source ({string.Join(", ", ConfigNames.CryptKeySources.Keys)})");
            }
            sources.Add(sources.Contains(source) ? throw Bad(e, file, $"\"{name}\" is listed twice") : source);
        }
        return sources.Count > 0 ? sources : throw Bad(e, file, "at least one key source");
    }

    private static void CheckComplete(ServiceConfig service, string file)
    {
        if (service.Name.Length == 0)
        {
            throw new ConfigException(file, service.Line, "service", "a [[service]] needs a name");
        }
        if (service.Command.Count == 0)
        {
            throw new ConfigException(file, service.Line, $"service {service.Name}", "a [[service]] needs a command");
        }
    }

    private static string ServiceName(TomlEntry e, string file, InitosConfig config)
    {
        var name = NonEmpty(e, file);
        if (!name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
        {
            throw Bad(e, file, $"\"{name}\": use letters, digits, '-', '_' and '.'");
        }
        return config.Services.Any(s => s.Name == name) ? throw Bad(e, file, $"a service named \"{name}\" already exists") : name;
    }

    private static IReadOnlyList<string> Command(TomlEntry e, string file)
    {
        if (e.Value is not ArraySyntax array || array.Items.ChildrenCount == 0)
        {
            throw Bad(e, file, $"expected an array of words like [\"/bin/sh\", \"-c\", \"…\"], got {Describe(e.Value)}");
        }
        var words = new List<string>();
        foreach (var item in array.Items)
        {
            words.Add(item.Value is StringValueSyntax s && s.Value is not null ? s.Value : throw Bad(e, file, $"every word must be a string, got {Describe(item.Value)}"));
        }
        return words[0].StartsWith('/') ? words : throw Bad(e, file, $"the program \"{words[0]}\" must be an absolute path");
    }

    /// <summary>"192.168.1.10/24": the static address and its prefix length.</summary>
    private static InitosConfig Address(InitosConfig config, TomlEntry e, string file)
    {
        var value = Str(e, file);
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !int.TryParse(value[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix) || prefix > 32)
        {
            throw Bad(e, file, $"\"{value}\": expected ADDRESS/PREFIX like \"192.168.1.10/24\"");
        }
        return config with { Network = config.Network with { Address = Ipv4(e, file, value[..slash]), PrefixLength = prefix } };
    }

    private static System.Net.IPAddress Ipv4(TomlEntry e, string file, string value) =>
        System.Net.IPAddress.TryParse(value, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? address
            : throw Bad(e, file, $"\"{value}\" is not an IPv4 address");

    /// <summary>One key per entry, "TYPE BASE64 [comment]": no options (InitOS adds the forced command itself), no newlines.</summary>
    private static IReadOnlyList<string> PublicKeys(TomlEntry e, string file) => PublicKeys(e, file, Strings(e, file));

    private static IReadOnlyList<string> PublicKeys(TomlEntry e, string file, IEnumerable<string> keys) =>
        keys.Select(key => Config.PublicKeys.IsPublicKey(key)
            ? key.Trim()
            : throw Bad(e, file, $"\"{Config.PublicKeys.Shorten(key)}\" is not a public key like \"ssh-ed25519 AAAA… comment\"")).ToList();

    /// <summary>The keys upgrade bundles may be signed with: ssh-ed25519 public key lines (the sidecar verifies Ed25519 only).</summary>
    private static IReadOnlyList<string> BundleKeys(TomlEntry e, string file) =>
        PublicKeys(e, file).Select(key => Trust.SshSignature.IsEd25519Key(key)
            ? key
            : throw Bad(e, file, $"\"{Config.PublicKeys.Shorten(key)}\" is not an ssh-ed25519 key; bundles are signed with ssh-ed25519 keys")).ToList();

    private static string MachineClass(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        return value.Any(char.IsWhiteSpace) ? throw Bad(e, file, "a machine class name has no spaces") : value;
    }

    /// <summary>A release version: dot-separated decimal numbers (1.0, 2.10.3).</summary>
    private static string Version(TomlEntry e, string file)
    {
        var value = Str(e, file);
        return value.Split('.').All(p => p.Length is > 0 and <= 9 && p.All(char.IsAsciiDigit))
            ? value
            : throw Bad(e, file, $"\"{value}\" is not a version such as 1.0 or 2.10.3");
    }

    private static IReadOnlyList<string> Strings(TomlEntry e, string file)
    {
        if (e.Value is not ArraySyntax array)
        {
            throw Bad(e, file, $"expected an array of strings, got {Describe(e.Value)}");
        }
        return array.Items.Select(item => item.Value is StringValueSyntax s && s.Value is not null ? s.Value : throw Bad(e, file, $"expected strings, got {Describe(item.Value)}")).ToList();
    }

    /// <summary>Network interface names as the kernel allows them (1–15 bytes, no '/', no spaces), not the jails' bridge.</summary>
    private static IReadOnlyList<string> InterfaceNames(TomlEntry e, string file) =>
        Strings(e, file).Select(name => name.Length is 0 or > 15 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Any(char.IsWhiteSpace)
            ? throw Bad(e, file, $"\"{name}\" is not a network interface name (1-15 characters, no '/' or spaces)")
            : name == SidecarConfig.JailBridge
                ? throw Bad(e, file, $"\"{name}\" is the jails' bridge: the admin door must not be open to jails")
                : name).ToList();

    /// <summary>A crypt(3) hash InitOS checks with libcrypt: SHA-512 ($6$) or yescrypt ($y$), never a password in the clear.</summary>
    private static string CryptHash(TomlEntry e, string file)
    {
        var value = Str(e, file);
        var fields = value.Split('$');
        bool wellFormed = (value.StartsWith("$6$", StringComparison.Ordinal) || value.StartsWith("$y$", StringComparison.Ordinal))
            && fields.Length >= 4 && fields[^1].Length >= 20
            && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '$' or '.' or '/' or '=');
        return wellFormed
            ? value
            : throw Bad(e, file, "expected a SHA-512 (\"$6$…\") or yescrypt (\"$y$…\") crypt hash, as `openssl passwd -6` or `mkpasswd` print, not a password");
    }

    private static ConfigException Bad(TomlEntry e, string file, string problem) => new(file, e.Line, e.Key, problem);

    private static string Str(TomlEntry e, string file) =>
        e.Value is StringValueSyntax s ? s.Value ?? "" : throw Bad(e, file, $"expected a string, got {Describe(e.Value)}");

    private static string NonEmpty(TomlEntry e, string file)
    {
        var value = Str(e, file);
        return value.Length > 0 ? value : throw Bad(e, file, "must not be empty");
    }

    private static string AbsolutePath(TomlEntry e, string file)
    {
        var value = Str(e, file);
        return value.StartsWith('/') ? value : throw Bad(e, file, $"expected an absolute path, got \"{value}\"");
    }

    private static string ImageName(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        return value.Contains('/', StringComparison.Ordinal) || value is "." or ".."
            ? throw Bad(e, file, $"\"{value}\" must be a name under the data volume's images/, without '/'")
            : value;
    }

    /// <summary>"sha256:" and 64 lowercase hex digits, as `initos build data --image` prints it.</summary>
    private static string ImageDigest(TomlEntry e, string file)
    {
        var value = Str(e, file);
        var hex = value.StartsWith("sha256:", StringComparison.Ordinal) ? value[7..] : "";
        return hex.Length == 64 && hex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')
            ? value
            : throw Bad(e, file, $"\"{value}\" is not \"sha256:\" and 64 lowercase hex digits (`initos build data --image NAME=DIR` prints it)");
    }

    /// <summary>A path inside the data volume: relative, and never out of it.</summary>
    private static string RelativePath(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file).Trim('/');
        return value.Length == 0 || value.Split('/').Any(part => part is ".." or ".")
            ? throw Bad(e, file, $"\"{value}\" must be a directory inside the data volume (relative, no '.' or '..')")
            : value;
    }

    private static int SignalNumber(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        return Sys.Signal.Parse(value) ?? throw Bad(e, file, $"\"{value}\" is not a signal (a name like \"SIGUSR2\" or \"SIGRTMIN+3\", or a number)");
    }

    private static string DeviceSpec(TomlEntry e, string file)
    {
        var value = NonEmpty(e, file);
        try
        {
            Devices.RootSpec.Parse(value);
            return value;
        }
        catch (FormatException problem)
        {
            throw Bad(e, file, problem.Message);
        }
    }

    private static bool Bool(TomlEntry e, string file) =>
        e.Value is BooleanValueSyntax b ? b.Value : throw Bad(e, file, $"expected true or false, got {Describe(e.Value)}");

    private static int Int(TomlEntry e, string file, int min, int max)
    {
        if (e.Value is not IntegerValueSyntax i)
        {
            throw Bad(e, file, $"expected an integer, got {Describe(e.Value)}");
        }
        return i.Value >= min && i.Value <= max ? (int)i.Value : throw Bad(e, file, $"{i.Value} is out of range {min}..{max}");
    }

    private static T Enum<T>(TomlEntry e, string file, IReadOnlyDictionary<string, T> names)
    {
        var value = Str(e, file);
        return names.TryGetValue(value, out var parsed)
            ? parsed
            : throw Bad(e, file, $"\"{value}\" is not one of {string.Join(", ", names.Keys)}");
    }

    private static IReadOnlyList<string> ModuleNames(TomlEntry e, string file)
    {
        if (e.Value is not ArraySyntax array)
        {
            throw Bad(e, file, $"expected an array of module names, got {Describe(e.Value)}");
        }
        var names = new List<string>();
        foreach (var item in array.Items)
        {
            if (item.Value is not StringValueSyntax s || string.IsNullOrWhiteSpace(s.Value) || s.Value.Contains('/'))
            {
                throw Bad(e, file, $"expected module names like \"virtio_blk\", got {Describe(item.Value)}");
            }
            names.Add(s.Value);
        }
        return names;
    }

    private static string Describe(SyntaxNode? value) => value switch
    {
        StringValueSyntax s => $"the string \"{s.Value}\"",
        IntegerValueSyntax i => $"the integer {i.Value}",
        BooleanValueSyntax b => b.Value ? "true" : "false",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        null => "nothing",
        _ => value.ToString()?.Trim() ?? "a value",
    };
}

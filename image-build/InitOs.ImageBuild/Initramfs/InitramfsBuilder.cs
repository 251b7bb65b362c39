using InitOs.ImageBuild.Cpio;
using InitOs.ImageBuild.Elf;
using InitOs.ImageBuild.Kernel;
using InitOs.Init.Config;
using InitOs.Init.Modules;
using InitOs.Sys;

namespace InitOs.ImageBuild.Initramfs;

/// <summary>
/// Lays out the initramfs: the box binary as /init, the libraries its ELF header
/// asks for, the modules of the profile and the config with their dependency closure, a
/// trimmed module index and the firmware they declare, the config, busybox for the emergency
/// shell, and /dev/console; CPU microcode, when installed, in an early cpio in front.
/// </summary>
public static class InitramfsBuilder
{
    public const string BoxPath = "bin/initos";
    public const string OsReleasePath = "etc/os-release";

    public static InitramfsReport Build(InitramfsSpec spec, string output)
    {
        var archive = new CpioArchive();
        var staging = Path.Combine(Path.GetTempPath(), $"initos-modules-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            AddSkeleton(archive);
            var libraries = AddBox(archive, spec.BoxBinary);
            var config = AddConfig(archive, spec);
            // The build's version and the image's release ([upgrade] version), as the UKI's .osrel carries them (`initos build uki` reads it from here).
            archive.AddFile(OsReleasePath, System.Text.Encoding.UTF8.GetBytes(InitOs.Init.BuildVersion.OsReleaseFor(config.Upgrade.Version)));
            var profile = spec.Profile ?? config.Modules.Profile;
            var kernel = KernelFolder.Open(spec.KernelDirectory);
            kernel.EnsureDepmod();
            var index = ModuleIndex.Load(kernel.ModuleDirectory);
            var hardware = profile == ModuleProfile.Host ? spec.Hardware ?? HardwareInventory.Take() : null;
            var hostLeftOut = hardware is null ? [] : ModuleProfiles.HostLeavesOut(index, config.Modules.Include, hardware);
            var modules = AddModules(archive, spec with { Hardware = hardware }, kernel, index, config, profile, hostLeftOut, staging);
            var firmware = AddFirmware(archive, spec, kernel, index, modules);
            var microcode = Microcode.Collect(spec.FirmwareDirectory, hardware?.Cpu);
            AddShell(archive, spec.Busybox);
            AddSidecar(archive, config);
            AddRecoveryPassword(archive, config);
            AddRegistryTls(archive, config);
            AddCryptsetup(archive, config);
            AddStorageTools(archive, config);
            var vmKit = AddVmKitDigests(archive, spec.VmKitQemu);
            AddExtraExecutables(archive, spec.ExtraExecutables);
            AddExtraTrees(archive, spec.ExtraTrees);
            WriteAtomically(archive, microcode, spec, output);
            return new InitramfsReport(output, new FileInfo(output).Length, archive.Paths.Count, modules, libraries, vmKit)
            {
                Profile = ConfigNames.Name(profile),
                Firmware = firmware.Packed,
                FirmwareMissing = firmware.Missing,
                HostLeftOut = hostLeftOut,
                Microcode = microcode,
            };
        }
        finally
        {
            foreach (var directory in new[] { staging, staging + "-store" }.Where(Directory.Exists))
            {
                Directory.Delete(directory, true);
            }
        }
    }

    private static void AddSkeleton(CpioArchive archive)
    {
        foreach (var dir in new[] { "dev", "proc", "sys", "run", "tmp", "sysroot", "etc", "bin", "sbin", "lib", "lib64" })
        {
            archive.AddDirectory(dir);
        }
        // Without /dev/console in the archive the kernel cannot give PID 1 a stdout.
        archive.AddCharDevice("dev/console", 5, 1, 0x180);
        archive.AddSymlink("init", "/" + BoxPath);
        // systemd's convention: this file says "this is an initrd".
        archive.AddFile("etc/initrd-release", "NAME=\"InitOS initramfs\"\nID=initos\nVARIANT_ID=initrd\n"u8.ToArray());
    }

    private static IReadOnlyList<string> AddBox(CpioArchive archive, string box)
    {
        if (!File.Exists(box))
        {
            throw new FileNotFoundException($"the InitOS binary {box} does not exist: publish init/InitOs.Box first (make box)");
        }
        var libraries = AddExecutable(archive, BoxPath, box);
        // The box's applets under their own names, as busybox does it.
        foreach (var applet in new[] { "reboot", "poweroff", "halt" })
        {
            archive.AddSymlink("sbin/" + applet, "/" + BoxPath);
        }
        return libraries;
    }

    /// <summary>An executable and the shared libraries its ELF header asks for (each library once).</summary>
    private static List<string> AddExecutable(CpioArchive archive, string target, string source)
    {
        archive.AddFileFrom(target, source, 0x1ED);
        var deps = ElfReader.Read(source);
        var names = new List<string>();
        foreach (var library in LibraryResolver.Resolve(source))
        {
            var libraryTarget = library.Name == Path.GetFileName(deps.Interpreter)
                ? deps.Interpreter!.TrimStart('/')
                : "lib/x86_64-linux-gnu/" + library.Name;
            if (!archive.Paths.Contains(libraryTarget))
            {
                archive.AddFileFrom(libraryTarget, library.SourcePath, 0x1ED);
                names.Add(libraryTarget);
            }
        }
        return names;
    }

    /// <summary>With [sidecar] ssh on: dropbear and its libraries, and root as a user it can log in.</summary>
    private static void AddSidecar(CpioArchive archive, InitosConfig config)
    {
        if (!config.Sidecar.Ssh)
        {
            return;
        }
        const string dropbear = InitOs.Sidecar.Ssh.SshSidecar.Dropbear;
        if (!File.Exists(dropbear))
        {
            throw new FileNotFoundException($"[sidecar] ssh = true needs {dropbear}: install dropbear-bin (make prereqs does)");
        }
        AddExecutable(archive, dropbear.TrimStart('/'), dropbear);
        archive.AddFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"u8.ToArray());
        archive.AddFile("etc/group", "root:x:0:\n"u8.ToArray());
        archive.AddDirectory("root", 0x1C0);
    }

    /// <summary>With [recovery] password_hash: libcrypt (libxcrypt), which PID 1 checks the password with.</summary>
    private static void AddRecoveryPassword(CpioArchive archive, InitosConfig config)
    {
        if (config.Recovery.PasswordHash is null)
        {
            return;
        }
        const string name = "libcrypt.so.1";
        var source = LibraryResolver.DefaultSearchDirectories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"[recovery] password_hash needs {name} (libcrypt1) on the build machine; looked in {string.Join(", ", LibraryResolver.DefaultSearchDirectories)}");
        var target = "lib/x86_64-linux-gnu/" + name;
        if (!archive.Paths.Contains(target))
        {
            AddExecutable(archive, target, source);
        }
    }

    /// <summary>With [upgrade] registry_ca or registry_pin: OpenSSL's libssl and libcrypto, which the sidecar's TLS client loads.</summary>
    private static void AddRegistryTls(CpioArchive archive, InitosConfig config)
    {
        if (config.Upgrade.RegistryCa is null && config.Upgrade.RegistryPin is null)
        {
            return;
        }
        foreach (var name in new[] { "libssl.so.3", "libcrypto.so.3" })
        {
            var source = LibraryResolver.DefaultSearchDirectories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"[upgrade] registry_ca or registry_pin needs {name} (libssl3) on the build machine; looked in {string.Join(", ", LibraryResolver.DefaultSearchDirectories)}");
            var target = "lib/x86_64-linux-gnu/" + name;
            if (!archive.Paths.Contains(target))
            {
                AddExecutable(archive, target, source);
            }
        }
    }

    /// <summary>
    /// With [[crypt]] volumes: Debian's cryptsetup and its libraries (docs/storage.md says why not
    /// C#), and dmsetup (its libraries are cryptsetup's) for the sidecar to read an open volume's
    /// key when it enrols a TPM key for the next UKI.
    /// </summary>
    private static void AddCryptsetup(CpioArchive archive, InitosConfig config)
    {
        if (config.Crypt.Count == 0)
        {
            return;
        }
        const string cryptsetup = InitOs.Init.Crypt.Cryptsetup.Binary;
        if (!File.Exists(cryptsetup))
        {
            throw new FileNotFoundException($"[[crypt]] volumes need {cryptsetup} on the build machine: install cryptsetup-bin (make prereqs does)");
        }
        AddExecutable(archive, cryptsetup.TrimStart('/'), cryptsetup);
        const string dmsetup = InitOs.Init.Crypt.Cryptsetup.DmSetup;
        if (!File.Exists(dmsetup))
        {
            throw new FileNotFoundException($"[[crypt]] volumes need {dmsetup} on the build machine: install dmsetup (make prereqs does)");
        }
        AddExecutable(archive, dmsetup.TrimStart('/'), dmsetup);
    }

    /// <summary>Debian's mdadm with [[raid]] arrays, its lvm with [[lvm]] volume groups (and their libraries).</summary>
    private static void AddStorageTools(CpioArchive archive, InitosConfig config)
    {
        foreach (var (needed, tool, package) in new[] { (config.Raid.Count > 0, InitOs.Init.Storage.StorageTool.Mdadm, "mdadm"), (config.Lvm.Count > 0, InitOs.Init.Storage.StorageTool.Lvm, "lvm2") })
        {
            if (!needed)
            {
                continue;
            }
            if (!File.Exists(tool))
            {
                throw new FileNotFoundException($"the config needs {tool} on the build machine: install {package} (make prereqs does)");
            }
            AddExecutable(archive, tool.TrimStart('/'), tool);
        }
    }

    /// <summary>The digests mode vm checks its kit against; says what it packed, for the report.</summary>
    private static string AddVmKitDigests(CpioArchive archive, string? qemu)
    {
        if (qemu is null || !File.Exists(qemu))
        {
            return $"no VM kit digests ({qemu ?? "none asked for"} absent): mode vm will refuse to start";
        }
        var digests = Data.VmKit.Digests(qemu);
        archive.AddFile(VmKitLayout.DigestFile.TrimStart('/'), System.Text.Encoding.UTF8.GetBytes(digests.Format()), Permissions.Octal0644);
        return $"VM kit digests of {qemu}: {digests.Entries.Count} files";
    }

    private static void AddExtraExecutables(CpioArchive archive, IReadOnlyDictionary<string, string> extra)
    {
        foreach (var (target, source) in extra.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!File.Exists(source))
            {
                throw new FileNotFoundException($"extra executable {source} (for /{target.TrimStart('/')}) does not exist");
            }
            AddExecutable(archive, target.TrimStart('/'), source);
        }
    }

    /// <summary>Each tree as it is on the host: directories, files with their modes, symlinks; in name order.</summary>
    private static void AddExtraTrees(CpioArchive archive, IReadOnlyDictionary<string, string> trees)
    {
        foreach (var (target, source) in trees.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!Directory.Exists(source))
            {
                throw new DirectoryNotFoundException($"extra tree {source} (for /{target.Trim('/')}) does not exist");
            }
            AddTree(archive, target.Trim('/'), new DirectoryInfo(source));
        }
    }

    private static void AddTree(CpioArchive archive, string target, DirectoryInfo source)
    {
        archive.AddDirectory(target, (int)source.UnixFileMode);
        foreach (var entry in source.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var path = target + "/" + entry.Name;
            if (entry.LinkTarget is { } link)
            {
                archive.AddSymlink(path, link);
            }
            else if (entry is DirectoryInfo directory)
            {
                AddTree(archive, path, directory);
            }
            else
            {
                archive.AddFileFrom(path, entry.FullName, (int)entry.UnixFileMode);
            }
        }
    }

    private static InitosConfig AddConfig(CpioArchive archive, InitramfsSpec spec)
    {
        if (spec.ConfigFile is null)
        {
            return new InitosConfig();
        }
        var text = File.ReadAllText(spec.ConfigFile);
        var config = spec.AllowInvalidConfig ? new InitosConfig() : ConfigLoader.Parse(text, spec.ConfigFile);
        archive.AddFile(InitosConfig.DefaultPath.TrimStart('/'), System.Text.Encoding.UTF8.GetBytes(text));
        return config;
    }

    /// <summary>The kernel's SHA-256 for the sidecar (AF_ALG's hash sockets, the SHA-NI/AVX2 driver): bundles verify several times faster than in managed code.</summary>
    public static readonly IReadOnlyList<string> HashModules = ["af_alg", "algif_hash", "sha256_ssse3"];

    /// <summary>
    /// What upgrades need whatever the profile: efivarfs (which entry booted, where the ESP is),
    /// FAT with its default code pages (the ESP), the watchdogs a trial boot arms (QEMU's
    /// i6300esb, Intel's TCO, AMD's SP5100 TCO; coldplug loads the one the machine has), and the
    /// kernel's SHA-256 behind AF_ALG.
    /// </summary>
    public static readonly IReadOnlyList<string> UpgradeModules = ["efivarfs", "vfat", "nls_cp437", "nls_ascii", "i6300esb", "iTCO_wdt", "sp5100_tco", .. HashModules];

    /// <summary>What a jailed OS's images from bundles need: loop devices and the two filesystems an OS image may be.</summary>
    public static readonly IReadOnlyList<string> OsImageModules = ["loop", "squashfs", "erofs", "ext4"];

    private static List<string> AddModules(CpioArchive archive, InitramfsSpec spec, KernelFolder kernel, ModuleIndex index, InitosConfig config, ModuleProfile profile, IReadOnlyList<string> hostLeftOut, string staging)
    {
        var include = config.Modules.Include.Where(m => !hostLeftOut.Contains(ModuleIndex.NormalizeName(m)));
        var wanted = config.Modules.Load.Concat(include).Concat(config.Upgrade.Enabled ? UpgradeModules : [])
            .Concat(config.Upgrade.Enabled && config.Os.Image is not null ? OsImageModules : [])
            .Concat(config.Crypt.Count > 0 ? [.. InitOs.Init.Boot.Tasks.CryptTasks.Modules, InitOs.Init.Boot.Tasks.CryptTasks.AesNi] : [])
            .Concat(config.Raid.Count > 0 ? InitOs.Init.Boot.Tasks.RaidTasks.Modules : [])
            .Concat(config.Lvm.Count > 0 ? InitOs.Init.Boot.Tasks.LvmTasks.Modules : [])
            .Concat(ModuleProfiles.Select(profile, index, kernel.ModuleDirectory, spec.Hardware))
            .Where(m => !index.IsBuiltin(m)).Distinct(StringComparer.Ordinal).ToList();
        var closure = index.LoadOrder(wanted).Where(m => !index.IsBuiltin(m)).ToList();
        var prefix = $"lib/modules/{kernel.Version}/";
        var stored = ModuleStoreImage.Stored(profile, index, config, closure);
        foreach (var module in closure.Where(m => !stored.Contains(m)))
        {
            var relative = index.PathOf(module);
            archive.AddFileFrom(prefix + relative, Path.Combine(kernel.ModuleDirectory, relative), 0x1A4);
        }
        if (stored.Count > 0)
        {
            var image = ModuleStoreImage.Write(kernel.ModuleDirectory, closure.Where(stored.Contains).Select(index.PathOf), staging + "-store", spec.Mtime);
            archive.AddFileFrom(prefix + ModuleStore.ImageName, image, 0x1A4);
        }
        Directory.CreateDirectory(staging);
        index.WriteSubset(closure, staging);
        foreach (var file in Directory.GetFiles(staging).Order(StringComparer.Ordinal))
        {
            archive.AddFile(prefix + Path.GetFileName(file), File.ReadAllBytes(file), 0x1A4);
        }
        var unpacked = ModuleProfiles.UnpackedAliases(index, closure.ToHashSet(StringComparer.Ordinal));
        archive.AddFile(prefix + ModuleIndex.UnpackedAliasFile, System.Text.Encoding.UTF8.GetBytes(unpacked), 0x1A4);
        return closure;
    }

    /// <summary>The firmware files the packed modules declare (modinfo's "firmware") that the build machine has; the kernel loads them from /lib/firmware.</summary>
    private static (List<string> Packed, int Missing) AddFirmware(CpioArchive archive, InitramfsSpec spec, KernelFolder kernel, ModuleIndex index, IReadOnlyList<string> modules)
    {
        var packed = new List<string>();
        int missing = 0;
        var declared = modules.SelectMany(m => ModuleInfo.Values(Path.Combine(kernel.ModuleDirectory, index.PathOf(m)), "firmware")).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var name in declared)
        {
            var source = Path.Combine(spec.FirmwareDirectory, name);
            if (name.Contains("..", StringComparison.Ordinal) || !File.Exists(source))
            {
                missing++;
                continue;
            }
            archive.AddFileFrom("lib/firmware/" + name, source, 0x1A4);
            packed.Add(name);
        }
        return (packed, missing);
    }

    private static void AddShell(CpioArchive archive, string? busybox)
    {
        if (busybox is null)
        {
            return;
        }
        if (!File.Exists(busybox))
        {
            throw new FileNotFoundException($"{busybox} not found: install busybox-static, or build without the emergency shell");
        }
        var deps = ElfReader.Read(busybox);
        if (deps.Interpreter is not null || deps.Needed.Count > 0)
        {
            throw new InvalidOperationException($"{busybox} is dynamically linked; the initramfs needs busybox-static");
        }
        archive.AddFileFrom("bin/busybox", busybox, 0x1ED);
        archive.AddSymlink("bin/sh", "busybox");
    }

    /// <summary>Write to a temporary file and rename, so a failed build never leaves half an initramfs.</summary>
    private static void WriteAtomically(CpioArchive archive, IReadOnlyList<Microcode.Blob> microcode, InitramfsSpec spec, string output)
    {
        var temporary = output + ".tmp";
        using (var stream = File.Create(temporary))
        {
            if (microcode.Count > 0)
            {
                Microcode.WriteEarlyArchive(microcode, stream, spec.Mtime);
            }
            InitramfsWriter.Write(archive, stream, spec.Compression, spec.Mtime, spec.ZstdLevel);
        }
        AtomicFile.Replace(temporary, output);
    }
}

namespace InitOs.Init.Config;

/// <summary>
/// /etc/initos/initos.toml as InitOS understands it. The file lives inside the
/// (signed) initramfs; every key is documented in docs/config.md.
/// </summary>
public sealed record InitosConfig
{
    public const string DefaultPath = "/etc/initos/initos.toml";

    public BootMode Mode { get; init; } = BootMode.SwitchRoot;
    public FailurePolicy OnFailure { get; init; } = FailurePolicy.Shell;
    public RootConfig Root { get; init; } = new();
    public ModulesConfig Modules { get; init; } = new();
    /// <summary>[network]: the sidecar's interface (the kernel command line's ip= wins).</summary>
    public NetworkSettings Network { get; init; } = new();
    public SidecarConfig Sidecar { get; init; } = new();
    /// <summary>[os]: how the jail modes (privileged, unprivileged) run the real OS.</summary>
    public OsConfig Os { get; init; } = new();
    /// <summary>[vm]: how mode vm runs the real OS in QEMU.</summary>
    public VmConfig Vm { get; init; } = new();
    /// <summary>[data]: the data volume (jail images and pool, sidecar state); none unless a device is named.</summary>
    public DataConfig Data { get; init; } = new();
    /// <summary>The line of network.mode, for errors about the [network] table as a whole.</summary>
    public int NetworkLine { get; init; }
    public IReadOnlyList<ServiceConfig> Services { get; init; } = [];
    /// <summary>At shutdown: how long processes get between SIGTERM and SIGKILL.</summary>
    public int ShutdownGraceSeconds { get; init; } = 5;
    /// <summary>[recovery]: what guards the emergency shell.</summary>
    public RecoveryConfig Recovery { get; init; } = new();
    public UpgradeConfig Upgrade { get; init; } = new();
    /// <summary>[[crypt]]: LUKS2 volumes opened before the data volume and the root are looked for.</summary>
    public IReadOnlyList<CryptConfig> Crypt { get; init; } = [];
    /// <summary>[[raid]]: md arrays assembled before the crypt volumes are opened.</summary>
    public IReadOnlyList<RaidConfig> Raid { get; init; } = [];
    /// <summary>[[lvm]]: volume groups activated after the crypt volumes are opened.</summary>
    public IReadOnlyList<LvmConfig> Lvm { get; init; } = [];
}

/// <summary>
/// A [[raid]] array: its members found by the array UUID in their md superblocks, assembled by
/// mdadm as /dev/md/NAME once all are there, or degraded (with a warning) when the wait is over
/// and some are still missing.
/// </summary>
public sealed record RaidConfig
{
    /// <summary>The array's UUID, as mdadm prints it (four groups of eight hex digits) or as blkid does.</summary>
    public string? Uuid { get; init; }
    public string? Name { get; init; }
    public int WaitSeconds { get; init; } = 30;
    public int Line { get; init; }
}

/// <summary>An [[lvm]] volume group, activated by lvm: its logical volumes become /dev/mapper/VG-LV.</summary>
public sealed record LvmConfig
{
    public string? VolumeGroup { get; init; }
    public int WaitSeconds { get; init; } = 30;
    public int Line { get; init; }
}

/// <summary>
/// A [[crypt]] volume: a LUKS2 device opened with dm-crypt as /dev/mapper/NAME, with the key
/// sources tried in order; what root and data name can then be the mapping (or a filesystem's
/// LABEL/UUID inside it).
/// </summary>
public sealed record CryptConfig
{
    /// <summary>The LUKS2 device: a spec as root= takes (UUID= of the LUKS header, PARTLABEL=, /dev/…).</summary>
    public string? Device { get; init; }
    /// <summary>The mapping's name, /dev/mapper/NAME.</summary>
    public string? Name { get; init; }
    /// <summary>Key sources in order; "tpm2" unseals a key enrolled for this UKI, "passphrase" asks on the console (a recovery key is accepted there too).</summary>
    public IReadOnlyList<CryptKeySource> Keys { get; init; } = [CryptKeySource.Passphrase];
    /// <summary>Passphrases the console gets before the failure policy.</summary>
    public int Tries { get; init; } = 3;
    public int WaitSeconds { get; init; } = 30;
    public int Line { get; init; }
}

public enum CryptKeySource
{
    Passphrase,
    /// <summary>A key the TPM unseals when PCR 7 and PCR 11 hold what an enrolled UKI leaves.</summary>
    Tpm2,
}

/// <summary>[recovery]: the emergency shell's password, asked for when the machine booted under Secure Boot.</summary>
/// <summary>[upgrade]: which signed bundles this machine accepts.</summary>
public sealed record UpgradeConfig
{
    /// <summary>ssh-ed25519 public keys; a bundle signed by any one is accepted (several, for rotation).</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];
    /// <summary>The machine class a bundle must name; null: any.</summary>
    public string? Compatible { get; init; }
    /// <summary>The lowest version this image accepts (anti-rollback, with the floor installed bundles raise).</summary>
    public string? MinVersion { get; init; }
    /// <summary>This image's release (the UKI's IMAGE_VERSION, what systemd-boot orders entries by); null: the build's version, and no upgrades.</summary>
    public string? Version { get; init; }
    /// <summary>Boots a new version gets before systemd-boot falls back (the counter in its file name).</summary>
    public int Tries { get; init; } = 3;
    /// <summary>Earlier good versions kept on the ESP besides the running one.</summary>
    public int KeepPrevious { get; init; } = 1;
    /// <summary>How long the OS must stay up in a trial boot before the verdict.</summary>
    public int SettleSeconds { get; init; } = 10;
    /// <summary>The time after the boot within which the OS must be up and every probe pass.</summary>
    public int DeadlineSeconds { get; init; } = 120;
    /// <summary>The hardware watchdog's timeout in a trial boot, from when PID 1 arms it; 0: deadline_seconds + 60.</summary>
    public int WatchdogSeconds { get; init; }
    /// <summary>Who blesses a trial boot: the sidecar's verdict (auto) or an admin (manual, `upgrade bless`).</summary>
    public UpgradePolicy Policy { get; init; } = UpgradePolicy.Auto;
    public IReadOnlyList<UpgradeProbe> Probes { get; init; } = [];
    /// <summary>The registry repository `upgrade apply --from TAG` fetches from ("HOST[:PORT]/REPO"); null: --from names the whole reference.</summary>
    public string? Registry { get; init; }
    /// <summary>Registry hosts reached over plain HTTP (a test registry); every other one over HTTPS.</summary>
    public IReadOnlyList<string> RegistryPlainHttp { get; init; } = [];
    /// <summary>CA certificates (PEM) an HTTPS registry's certificate must chain to: the machine carries no system roots.</summary>
    public string? RegistryCa { get; init; }
    /// <summary>Or the one certificate accepted: the SHA-256 of its DER bytes, lower-case hex.</summary>
    public string? RegistryPin { get; init; }

    /// <summary>Upgrades are on when the config names keys to check bundles with and this image's release.</summary>
    public bool Enabled => Keys.Count > 0 && Version is not null;
}

public enum UpgradePolicy
{
    Auto,
    Manual,
}

/// <summary>An [[upgrade.probe]]: one check a trial boot must pass, exactly one of tcp ("HOST:PORT" open), http (a URL answering 2xx/3xx) or command (run by a shell in the jailed OS, exiting 0).</summary>
public sealed record UpgradeProbe
{
    public string? Tcp { get; init; }
    public string? Http { get; init; }
    public string? Command { get; init; }
    public int Line { get; init; }

    public string Describe() => Tcp is not null ? $"tcp {Tcp}" : Http is not null ? $"http {Http}" : $"command '{Command}'";
}

public sealed record RecoveryConfig
{
    /// <summary>A crypt(3) hash, SHA-512 ("$6$…") or yescrypt ("$y$…"), as mkpasswd or openssl passwd -6 make; null: no shell under Secure Boot.</summary>
    public string? PasswordHash { get; init; }
}

public enum RestartPolicy
{
    Always,
    OnFailure,
    Never,
}

/// <summary>A [[service]] block: a program PID 1 starts in order and keeps alive.</summary>
public sealed record ServiceConfig
{
    public string Name { get; init; } = "";
    /// <summary>argv; the first word is an absolute path.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
    /// <summary>Interactive on the console: its own session with the console as controlling terminal.</summary>
    public bool Console { get; init; }
    public RestartPolicy Restart { get; init; } = RestartPolicy.Always;
    /// <summary>How long the service gets between SIGTERM and SIGKILL when it is stopped.</summary>
    public int StopGraceSeconds { get; init; } = 5;
    /// <summary>Where the block starts, for errors about the block as a whole.</summary>
    public int Line { get; init; }
}

public sealed record RootConfig
{
    /// <summary>Root device spec, used when the command line has no root=.</summary>
    public string? Device { get; init; }
    public string? FsType { get; init; }
    public string? Options { get; init; }
    public bool ReadWrite { get; init; }
    public int WaitSeconds { get; init; } = 30;
    public string Init { get; init; } = "/sbin/init";
}

/// <summary>What InitOS does when the jailed OS ends one way or the other.</summary>
public enum OsExitAction
{
    /// <summary>Start the OS again (a fresh upper layer unless keep_upper).</summary>
    Restart,
    Reboot,
    PowerOff,
    Halt,
}

/// <summary>[os]: the real OS in a jail (modes privileged and unprivileged).</summary>
public sealed record OsConfig
{
    /// <summary>A directory under the data volume's images/ used as the read-only lower layer; null: the root device.</summary>
    public string? Image { get; init; }
    /// <summary>
    /// "sha256:HEX" of images/IMAGE.manifest (written by `initos build data`): the image is
    /// checked against it before the OS starts. Required in privileged mode, which is host root.
    /// </summary>
    public string? ImageDigest { get; init; }
    public int ImageDigestLine { get; init; }
    /// <summary>Null: the image's /etc/hostname, else "initos".</summary>
    public string? Hostname { get; init; }
    /// <summary>Keep the upper layer across the OS's reboots (it is still new at every host boot).</summary>
    public bool KeepUpper { get; init; }
    /// <summary>The OS called reboot(2): its init ended by SIGHUP.</summary>
    public OsExitAction OnReboot { get; init; } = OsExitAction.Restart;
    /// <summary>The OS powered off or halted: its init ended by SIGINT.</summary>
    public OsExitAction OnPowerOff { get; init; } = OsExitAction.PowerOff;
    /// <summary>What asks the OS to shut down when the host does; null: by its init (systemd SIGRTMIN+3, others SIGUSR2 as busybox).</summary>
    public int? StopSignal { get; init; }
    /// <summary>How long the OS gets to shut down before it is killed.</summary>
    public int StopGraceSeconds { get; init; } = 30;
    /// <summary>Jail network: "bridge" (a veth on the host bridge), "none" or "host".</summary>
    public string Network { get; init; } = "bridge";
    /// <summary>Pool on a btrfs data volume: slots and each slot's quota.</summary>
    public int PoolSlots { get; init; } = 2;
    public int PoolQuotaMiB { get; init; } = 1024;
    /// <summary>memory.max of the OS's cgroup; null: the machine's memory less a host reserve (<see cref="OsLimits"/>).</summary>
    public int? MemoryMaxMiB { get; init; }
    /// <summary>pids.max of the OS's cgroup: a fork bomb stops there.</summary>
    public int PidsMax { get; init; } = OsLimits.DefaultPidsMax;
    /// <summary>Sizes of the OS's /tmp and /run tmpfs; null: a quarter and a tenth of the machine's memory.</summary>
    public int? TmpSizeMiB { get; init; }
    public int? RunSizeMiB { get; init; }
}

/// <summary>
/// [vm]: mode vm boots the OS image as a virtio disk in QEMU. QEMU, its libraries, firmware,
/// the guest's kernel and initramfs are a kit on the data volume (`initos build data --vm-kit`):
/// they do not belong in the signed initramfs, and the host never executes the guest's files.
/// </summary>
public sealed record VmConfig
{
    /// <summary>The kit's directory on the data volume: qemu/ (binary, lib/, modules/, firmware/), kernel, initrd.img.</summary>
    public string Kit { get; init; } = "vm";
    /// <summary>"auto" (microvm under KVM, pc under TCG), "microvm" (virtio-mmio, no PCI, qboot: boots fastest) or "pc".</summary>
    public string Machine { get; init; } = "auto";
    public int MemoryMiB { get; init; } = 512;
    public int Cpus { get; init; } = 1;
    /// <summary>"auto" (KVM when it works, else TCG), "kvm" or "tcg".</summary>
    public string Accel { get; init; } = "auto";
    /// <summary>More words for the guest's kernel command line (after console, root and ip).</summary>
    public string Append { get; init; } = "";
}

/// <summary>[data]: where InitOS keeps what must outlive a boot. Mounted read-write at <see cref="MountPoint"/>.</summary>
public sealed record DataConfig
{
    /// <summary>Under /run so that it stays mounted, and visible, across switch_root.</summary>
    public const string MountPoint = "/run/initos/data";

    /// <summary>A device spec as root= takes (LABEL=, UUID=, PARTUUID=, PARTLABEL=, /dev/…); none: no data volume.</summary>
    public string? Device { get; init; }
    public string? FsType { get; init; }
    public string? Options { get; init; }
    public int WaitSeconds { get; init; } = 30;

    /// <summary>The sidecar's state directory on the volume (host keys).</summary>
    public static string State(string name) => Path.Combine(MountPoint, "state", name);
}

/// <summary>Which modules the build packs besides modules.load and modules.include.</summary>
public enum ModuleProfile
{
    /// <summary>Every storage, USB, MMC, keyboard and Ethernet driver and the common filesystems, with their firmware: any machine.</summary>
    Generic,
    /// <summary>What one machine's hardware asks for (its /sys, or an inventory from `initos admin hardware --json`).</summary>
    Host,
    /// <summary>modules.load and modules.include only.</summary>
    Explicit,
}

public sealed record ModulesConfig
{
    public ModuleProfile Profile { get; init; } = ModuleProfile.Generic;
    /// <summary>Loaded at every boot, in this order, each after its dependencies.</summary>
    public IReadOnlyList<string> Load { get; init; } = [];
    /// <summary>Packed into the initramfs so coldplug can load them when hardware asks for them.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];
    public bool Coldplug { get; init; } = true;
}

/// <summary>[sidecar]: the admin door. An sshd (dropbear) PID 1 supervises, key-only, every login forced into `initos admin`.</summary>
public sealed record SidecarConfig
{
    public const string DefaultHostKeyDirectory = "/run/initos/ssh";
    /// <summary>The jails' bridge (JailNetworkConfig's default): never an admin interface.</summary>
    public const string JailBridge = "initos0";

    public bool Ssh { get; init; }
    public int Port { get; init; } = 22;
    /// <summary>Public keys in authorized_keys format ("ssh-ed25519 AAAA… comment"); each has the admin role.</summary>
    public IReadOnlyList<string> AuthorizedKeys { get; init; } = [];
    /// <summary>[[sidecar.admin]]: keys with the role each may act in.</summary>
    public IReadOnlyList<AdminKey> Admins { get; init; } = [];

    /// <summary>Every key sshd lets in, with its role: authorized_keys as admins, then [[sidecar.admin]].</summary>
    public IEnumerable<AdminKey> AllAdmins => AuthorizedKeys.Select(key => new AdminKey { Key = key, Role = AdminRole.Admin }).Concat(Admins);
    /// <summary>
    /// Where host keys are made on first use and kept. Unset: the data volume's state/ssh when
    /// there is a data volume (the same keys after a reboot), else a tmpfs directory.
    /// </summary>
    public string? HostKeyDirectory { get; init; }
    /// <summary>Also accept initos.ssh_key="…" from the kernel command line (off by default: it may be unsigned).</summary>
    public bool CommandLineKeys { get; init; }
    /// <summary>
    /// The interfaces sshd takes connections from. Empty: every network card (an interface
    /// with a device behind it), never lo, the jails' bridge or their veths.
    /// </summary>
    public IReadOnlyList<string> Listen { get; init; } = [];
    /// <summary>After switch_root: who starts the door (see <see cref="SidecarStart"/>).</summary>
    public SidecarStart Start { get; init; } = SidecarStart.Initramfs;

    public string HostKeys => HostKeyDirectory ?? DefaultHostKeyDirectory;
}

/// <summary>[sidecar] start: who starts the admin door once the OS has PID 1 (switch_root).</summary>
public enum SidecarStart
{
    /// <summary>PID 1 starts it from /run/initramfs just before the hand-off; the OS's init inherits it.</summary>
    Initramfs,
    /// <summary>
    /// systemd starts it as a runtime unit PID 1 writes under /run/systemd/system, so systemd
    /// owns it (its cgroup, restarts, stop order); an OS whose init is not systemd gets the
    /// initramfs start instead, with a warning.
    /// </summary>
    AfterInit,
}

/// <summary>What an admin key may do over ssh; each role may do what the ones before it may.</summary>
public enum AdminRole
{
    /// <summary>status, services, logs, help</summary>
    Viewer,
    /// <summary>also services restart|kill, reboot, poweroff</summary>
    Operator,
    /// <summary>also jail debug (and upgrades)</summary>
    Admin,
}

/// <summary>One [[sidecar.admin]] table: a public key and its role (viewer unless it says more).</summary>
public sealed record AdminKey
{
    public string Key { get; init; } = "";
    public AdminRole Role { get; init; } = AdminRole.Viewer;
    public int Line { get; init; }
}

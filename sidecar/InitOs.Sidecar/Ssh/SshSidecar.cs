using InitOs.Init.Config;
using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// The admin door as PID 1 runs it: dropbear, supervised like any [[service]] (backoff, crash
/// loops throttled), key-only (-s), without port forwarding, and with every session forced into
/// `initos admin`. Dropbear rather than OpenSSH: it and its libraries add about 1.3 MB to the
/// initramfs, OpenSSH's sshd about 8 MB (see the README's dependency table).
/// </summary>
public static class SshSidecar
{
    public const string Dropbear = "/usr/sbin/dropbear";
    public const string AdminCommand = "/bin/initos admin";
    public const string AuthorizedKeys = "/root/.ssh/authorized_keys";
    public const string ServiceName = "sshd";

    /// <summary>The services with sshd added when [sidecar] ssh is on (a [[service]] named sshd takes its place).</summary>
    public static IReadOnlyList<ServiceSpec> WithSshd(IReadOnlyList<ServiceSpec> services, SidecarConfig sidecar) =>
        sidecar.Ssh && services.All(s => s.Name != ServiceName) ? [.. services, Service(sidecar, SyslogRelay.DevLog)] : services;

    /// <summary>
    /// The door (<see cref="SshDoor"/>) listens, on the admin interfaces only, and runs dropbear
    /// in inetd mode for each connection: dropbear cannot bind a port to one interface, and
    /// binding an address would not keep a jail out (the host answers on any of its addresses
    /// from any interface).
    /// </summary>
    /// <param name="syslog">
    /// Where the door takes dropbear's syslog lines (inetd mode logs nowhere else): /dev/log
    /// when PID 1 runs it. The sidecar after switch_root passes none: its /dev is the OS's
    /// devtmpfs, whose /dev/log is the OS's to make.
    /// </param>
    public static ServiceSpec Service(SidecarConfig sidecar, string? syslog) => new()
    {
        Name = ServiceName,
        Command = [Box, .. SshDoorApplet.Arguments(sidecar.Port, sidecar.Listen, syslog, DropbearSession)],
        Restart = RestartPolicy.Always,
    };

    /// <summary>
    /// One session on stdin/stdout: key-only, no forwarding, keys made on first use. Not -c: a
    /// forced command there would replace each key's own (<see cref="ForcedCommand"/>), which
    /// carries the key's role; every line of authorized_keys has one, so every session is still
    /// the admin command.
    /// </summary>
    private static readonly string[] DropbearSession = [Dropbear, "-i", "-s", "-g", "-j", "-k", "-m", "-R"];

    public const string Box = "/bin/initos";

    /// <summary>dropbear -R makes missing host keys at its built-in paths, so that directory points at ours.</summary>
    public const string DropbearKeyDirectory = "/etc/dropbear";

    /// <summary>
    /// Before sshd starts: root's authorized_keys from the (signed) config, each key restricted so
    /// a session can do nothing but the admin command; the host key directory, private to root.
    /// </summary>
    public static void Prepare(SidecarConfig sidecar)
    {
        SecureHostKeys(sidecar.HostKeys);
        if (!Path.Exists(DropbearKeyDirectory))
        {
            File.CreateSymbolicLink(DropbearKeyDirectory, sidecar.HostKeys);
        }
        var ssh = Path.GetDirectoryName(AuthorizedKeys)!;
        Directory.CreateDirectory(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(AuthorizedKeys, string.Concat(sidecar.AllAdmins.Select(AuthorizedKeysLine)));
        File.SetUnixFileMode(AuthorizedKeys, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>root's authorized_keys line for an admin key: its forced command, no forwarding of any kind.</summary>
    public static string AuthorizedKeysLine(AdminKey admin) =>
        $"command=\"{ForcedCommand(admin)}\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding {admin.Key}\n";

    /// <summary>
    /// What a key's sessions run: the admin command told the key's role and fingerprint by
    /// sshd itself (from root's authorized_keys, written here from the signed config), so a
    /// client can neither choose its role nor hide who it is. The client's words come in
    /// SSH_ORIGINAL_COMMAND.
    /// </summary>
    public static string ForcedCommand(AdminKey admin) =>
        $"{AdminCommand} --role {admin.Role.ToString().ToLowerInvariant()} --key {PublicKeys.Fingerprint(admin.Key)}";

    /// <summary>
    /// The host-key directory, made private at every boot, not only when it is made: it may be on
    /// the data volume, which anyone with the disk in hand can change. A symlink there is refused
    /// (the keys would be read from, and made at, a place of its choosing); the directory and its
    /// keys become root's, 0700 and 0600.
    /// </summary>
    public static void SecureHostKeys(string directory)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(directory, Private);
        if (new DirectoryInfo(directory).LinkTarget is { } target)
        {
            throw new IOException($"the host-key directory {directory} is a symlink (to {target}); InitOS does not follow it");
        }
        Files.Chown(directory, 0, 0);
        File.SetUnixFileMode(directory, Private);
        foreach (var key in Directory.EnumerateFileSystemEntries(directory))
        {
            if (new FileInfo(key).LinkTarget is not null)
            {
                throw new IOException($"the host key {key} is a symlink; InitOS does not follow it");
            }
            Files.Chown(key, 0, 0);
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}

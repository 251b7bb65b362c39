using InitOs.Init.Config;
using InitOs.Init.Supervision;

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
        sidecar.Ssh && services.All(s => s.Name != ServiceName) ? [.. services, Service(sidecar)] : services;

    public static ServiceSpec Service(SidecarConfig sidecar) => new()
    {
        Name = ServiceName,
        Command =
        [
            Dropbear, "-F", "-E", "-s", "-g", "-j", "-k", "-m", "-R",
            "-p", sidecar.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", AdminCommand,
        ],
        Restart = RestartPolicy.Always,
    };

    /// <summary>dropbear -R makes missing host keys at its built-in paths, so that directory points at ours.</summary>
    public const string DropbearKeyDirectory = "/etc/dropbear";

    /// <summary>
    /// Before sshd starts: root's authorized_keys from the (signed) config, each key restricted so
    /// a session can do nothing but the admin command; the host key directory, private to root.
    /// </summary>
    public static void Prepare(SidecarConfig sidecar)
    {
        Directory.CreateDirectory(sidecar.HostKeys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!Path.Exists(DropbearKeyDirectory))
        {
            File.CreateSymbolicLink(DropbearKeyDirectory, sidecar.HostKeys);
        }
        var ssh = Path.GetDirectoryName(AuthorizedKeys)!;
        Directory.CreateDirectory(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        const string restrictions = "no-port-forwarding,no-agent-forwarding,no-X11-forwarding";
        var lines = sidecar.AuthorizedKeys.Select(key => $"command=\"{AdminCommand}\",{restrictions} {key}\n");
        File.WriteAllText(AuthorizedKeys, string.Concat(lines));
        File.SetUnixFileMode(AuthorizedKeys, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}

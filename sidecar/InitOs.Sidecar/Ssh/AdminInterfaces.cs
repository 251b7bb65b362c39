namespace InitOs.Sidecar.Ssh;

/// <summary>
/// Which network interfaces the admin door is open on. Named ones when [sidecar] listen names
/// them; otherwise every network card: an interface with a device behind it in sysfs. That
/// leaves out lo and every virtual link, above all the jails' bridge and their veths, so a
/// jailed OS or VM cannot reach sshd (a bridge or bond for admins has to be named).
/// </summary>
public static class AdminInterfaces
{
    private const string SysClassNet = "/sys/class/net";

    public static IReadOnlyList<string> Present(IReadOnlyList<string> named, string sysClassNet = SysClassNet)
    {
        var present = Directory.Exists(sysClassNet)
            ? Directory.GetFileSystemEntries(sysClassNet).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
        return named.Count > 0
            ? present.Where(named.Contains).ToList()
            : present.Where(name => Path.Exists(Path.Combine(sysClassNet, name, "device"))).ToList();
    }
}

using System.Diagnostics;
using System.Globalization;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// The process `chain sshd` leaves behind (`initos chain sshd-keeper …`, started in a mount
/// namespace of its own): a tmpfs over root's ~/.ssh (or over the home when it has none) holds
/// the checked keys and a new Ed25519 host key, so the jail's files are
/// neither read for keys nor written; then dropbear runs in the foreground, key logins only,
/// and is started again when it dies (1 s, doubling to 30 s; back to 1 s after a minute up).
/// </summary>
public static class SshdKeeper
{
    public const string Applet = "sshd-keeper";
    public const string Ready = "ready";

    public static int Run(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }
        int readyFd = int.Parse(values["--ready-fd"], CultureInfo.InvariantCulture);
        string hostKey;
        try
        {
            hostKey = ShowKeys(values["--keys"], RootHome());
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException or ChainException)
        {
            Tell(readyFd, ChainFiles.Describe(e));
            return ChainApplet.HelperFailed;
        }
        Tell(readyFd, Ready);
        Keep([values["--dropbear"], "-F", "-E", "-s", "-r", hostKey, "-P", Path.Combine(Path.GetDirectoryName(hostKey)!, "dropbear.pid"), "-p", values["--port"]]);
        return 0;
    }

    private static string RootHome()
    {
        var root = UserDatabase.Read().Users.FirstOrDefault(u => u.Uid == 0);
        return root is { Home.Length: > 0 } ? root.Home : "/root";
    }

    /// <summary>The keys as root's authorized_keys in a tmpfs only this namespace sees; the host key's path there.</summary>
    private static string ShowKeys(string keysFile, string home)
    {
        var keys = File.ReadAllText(keysFile);
        // Nothing mounted here may reach the jail's own namespace.
        Mounts.Mount(null, "/", null, MountFlags.Slave | MountFlags.Recursive, null);
        var ssh = Path.Combine(home, ".ssh");
        if (Directory.Exists(ssh))
        {
            Mounts.Mount("tmpfs", ssh, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=0700,size=1m");
        }
        else if (Directory.Exists(home))
        {
            Mounts.Mount("tmpfs", home, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=0700,size=1m");
            Files.MakeDirectory(ssh, Permissions.Octal0700);
        }
        else
        {
            throw new ChainException($"root's home {home} does not exist: dropbear reads the keys under it");
        }
        var authorized = Path.Combine(ssh, "authorized_keys");
        File.WriteAllText(authorized, keys);
        File.SetUnixFileMode(authorized, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var hostKey = Path.Combine(ssh, "initos_sshd_host_ed25519");
        File.WriteAllBytes(hostKey, DropbearHostKey.Create());
        File.SetUnixFileMode(hostKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return hostKey;
    }

    private static void Tell(int fd, string line)
    {
        Files.WriteAll(fd, System.Text.Encoding.UTF8.GetBytes(line + "\n"));
        Files.Close(fd);
    }

    private static void Keep(IReadOnlyList<string> argv)
    {
        var env = ChainState.Current().Environment;
        var pause = TimeSpan.FromSeconds(1);
        while (true)
        {
            var clock = Stopwatch.StartNew();
            var started = Processes.SpawnExact(argv[0], argv, env, new SpawnOptions());
            var exit = started.ExecError == Errno.None ? Processes.Wait(started.Pid) : null;
            var why = started.ExecError != Errno.None ? $"cannot run: {SysException.Describe(started.ExecError)}" : exit?.ToString() ?? "ended";
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                pause = TimeSpan.FromSeconds(1);
            }
            Console.Error.WriteLine($"initos chain sshd: {argv[0]} {why}; starting it again in {pause.TotalSeconds:0} s");
            Thread.Sleep(pause);
            pause = TimeSpan.FromSeconds(Math.Min(30, pause.TotalSeconds * 2));
        }
    }
}

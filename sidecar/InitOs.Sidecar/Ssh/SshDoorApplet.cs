using System.Globalization;

namespace InitOs.Sidecar.Ssh;

/// <summary>
/// `initos ssh-door --port N [--listen IF,IF…] [--syslog PATH] [--protect yes] -- PROGRAM [ARGS]`: the sshd service's process
/// (<see cref="SshDoor"/>); PROGRAM is dropbear in inetd mode. Run by PID 1 or the sidecar, not by people.
/// </summary>
public static class SshDoorApplet
{
    public const string Name = "ssh-door";

    public static int Run(string[] args)
    {
        int separator = Array.IndexOf(args, "--");
        var options = separator < 0 ? args : args[..separator];
        var session = separator < 0 ? [] : args[(separator + 1)..];
        int port = 0;
        IReadOnlyList<string> listen = [];
        string? syslog = null;
        bool protect = false;
        for (int i = 0; i + 1 < options.Length; i += 2)
        {
            if (options[i] == "--port" && int.TryParse(options[i + 1], CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536)
            {
                port = p;
            }
            else if (options[i] == "--protect" && options[i + 1] == "yes")
            {
                protect = true;
            }
            else if (options[i] == "--syslog")
            {
                syslog = options[i + 1];
            }
            else if (options[i] == "--listen")
            {
                listen = options[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries);
            }
            else
            {
                port = 0;
                break;
            }
        }
        if (port == 0 || options.Length % 2 != 0 || session.Length == 0)
        {
            Console.Error.WriteLine("usage: initos ssh-door --port N [--listen IF,IF...] [--syslog PATH] [--protect yes] -- PROGRAM [ARGS] (the sshd service runs it)");
            return 2;
        }
        if (protect)
        {
            DoorProtection.Apply(Console.Error.WriteLine);
        }
        if (syslog is not null)
        {
            SyslogRelay.StartIfFree(syslog, Console.Error.WriteLine);
        }
        new SshDoor(port, listen, session, Console.Error.WriteLine).Run();
        return 0;
    }

    /// <summary>The arguments that run <paramref name="session"/> behind the door.</summary>
    public static IReadOnlyList<string> Arguments(int port, IReadOnlyList<string> listen, string? syslog, IReadOnlyList<string> session)
    {
        var args = new List<string> { Name, "--port", port.ToString(CultureInfo.InvariantCulture), "--protect", "yes" };
        if (listen.Count > 0)
        {
            args.AddRange(["--listen", string.Join(',', listen)]);
        }
        if (syslog is not null)
        {
            args.AddRange(["--syslog", syslog]);
        }
        return [.. args, "--", .. session];
    }
}

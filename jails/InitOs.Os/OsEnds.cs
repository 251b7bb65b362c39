using InitOs.Init.Boot;
using InitOs.Init.Config;
using InitOs.Init.Supervision;

namespace InitOs.Os;

/// <summary>How the real OS ended, whatever ran it (a jail's init, a VM).</summary>
public enum OsEnd
{
    /// <summary>It rebooted: a jail's init killed by SIGHUP, a VM's reset.</summary>
    Reboot,
    /// <summary>It powered off or halted: a jail's init killed by SIGINT, a VM's power-off.</summary>
    PowerOff,
    /// <summary>Anything else: a crash, restarted with backoff.</summary>
    Crash,
}

/// <summary>What [os] says the host does after each end; the modules the OS's network needs; listings for errors.</summary>
public static class OsEnds
{
    public static string Describe(OsEnd end) => end switch
    {
        OsEnd.Reboot => "the OS rebooted",
        OsEnd.PowerOff => "the OS powered off or halted",
        _ => "the OS's init ended",
    };

    /// <summary>The shutdown the host follows with, or null when the OS is started again.</summary>
    public static ShutdownKind? HostFollows(OsConfig config, OsEnd end)
    {
        var action = end switch
        {
            OsEnd.Reboot => config.OnReboot,
            OsEnd.PowerOff => config.OnPowerOff,
            _ => OsExitAction.Restart,
        };
        return action switch
        {
            OsExitAction.Reboot => ShutdownKind.Reboot,
            OsExitAction.PowerOff => ShutdownKind.PowerOff,
            OsExitAction.Halt => ShutdownKind.Halt,
            _ => null,
        };
    }

    /// <summary>Loads modules packed into the initramfs (built-in ones are fine); a missing one names the fix.</summary>
    public static void LoadModules(BootContext context, IEnumerable<string> names, string purpose) =>
        Init.Boot.Tasks.ModuleTasks.LoadFor(context, names, purpose, "add it to modules.include (or set os.network = \"none\")");

    /// <summary>What a directory on the data volume holds, sorted, for errors that say what was there instead.</summary>
    public static string Listing(string directory, bool directoriesOnly = false)
    {
        if (!Directory.Exists(directory))
        {
            return $"no {Path.GetFileName(directory)}/ directory";
        }
        var names = (directoriesOnly ? Directory.EnumerateDirectories(directory) : Directory.EnumerateFileSystemEntries(directory))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }
}

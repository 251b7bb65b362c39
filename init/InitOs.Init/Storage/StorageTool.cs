using System.Text;
using InitOs.Sys;

namespace InitOs.Init.Storage;

/// <summary>
/// Debian's mdadm and lvm, packed when the config has [[raid]] or [[lvm]]: run through PID 1's
/// reaper with no udev (MDADM_NO_UDEV, DM_DISABLE_UDEV: they make their device nodes
/// themselves), their messages kept in /run/initos/storage/WHAT.log.
/// </summary>
public sealed class StorageTool(Func<Func<int>, ChildExit> run, string stateDirectory = "/run/initos/storage")
{
    public const string Mdadm = "/sbin/mdadm";
    public const string Lvm = "/sbin/lvm";

    private static readonly string[] Environment = ["PATH=/sbin:/bin", "MDADM_NO_UDEV=1", "DM_DISABLE_UDEV=1", "LVM_SUPPRESS_FD_WARNINGS=1", "LC_ALL=C"];

    /// <summary>The exit and the lines the program printed (stdout and stderr together).</summary>
    public (ChildExit Exit, IReadOnlyList<string> Lines) Run(string what, params string[] argv)
    {
        Directory.CreateDirectory(stateDirectory);
        var log = Path.Combine(stateDirectory, what + ".log");
        File.WriteAllBytes(log, []);
        var exit = run(() => Processes.Spawn(argv[0], argv, Environment, log));
        var lines = File.ReadAllLines(log, Encoding.UTF8).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return (exit, lines);
    }
}

using System.Globalization;
using InitOs.Init.Supervision;
using InitOs.Sys;

namespace InitOs.Box;

/// <summary>`initos reboot|poweroff|halt` (ask PID 1, busybox's signals and flags) and `initos services`.</summary>
internal static class ControlApplets
{
    public static int Reboot(string[] args) => Ask(ShutdownKind.Reboot, args);

    public static int PowerOff(string[] args) => Ask(ShutdownKind.PowerOff, args);

    public static int Halt(string[] args) => Ask(ShutdownKind.Halt, args);

    /// <summary>busybox's flags: -d SECONDS waits first, -f acts at once without PID 1, -n skips the sync (with -f).</summary>
    private sealed record ShutdownFlags(int DelaySeconds, bool Force, bool NoSync);

    private static int Ask(ShutdownKind kind, string[] args)
    {
        var name = kind.ToString().ToLowerInvariant();
        if (Parse(args) is not { } flags)
        {
            Console.Error.WriteLine($"usage: {name} [-d SECONDS] [-f] [-n]   (got '{string.Join(' ', args)}')");
            return 2;
        }
        if (flags.DelaySeconds > 0)
        {
            Thread.Sleep(TimeSpan.FromSeconds(flags.DelaySeconds));
        }
        if (flags.Force)
        {
            if (!flags.NoSync)
            {
                Files.Sync();
            }
            Kernel.Reboot(ShutdownSignals.Command(kind));
            return 0;
        }
        return ShutdownSignals.AskPid1(kind) ? 0 : 1;
    }

    private static ShutdownFlags? Parse(string[] args)
    {
        var flags = new ShutdownFlags(0, false, false);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].Length < 2 || args[i][0] != '-')
            {
                return null;
            }
            foreach (var letter in args[i][1..])
            {
                switch (letter)
                {
                    case 'f':
                        flags = flags with { Force = true };
                        break;
                    case 'n':
                        flags = flags with { NoSync = true };
                        break;
                    case 'd' when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int seconds):
                        flags = flags with { DelaySeconds = seconds };
                        i++;
                        break;
                    default:
                        return null;
                }
            }
        }
        return flags;
    }

    public static int Services(string[] args) => ServicesCommand.Run(args);
}

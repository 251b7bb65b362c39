namespace InitOs.Efi.Uki;

/// <summary>
/// The consoles a signed command line names. Under Secure Boot the command line cannot be
/// edited at the boot menu, so the default has every console a machine may have: the screen
/// (tty0, the virtual terminal in front) and the first serial port. The last one is
/// /dev/console: on a server the serial line (often an IPMI serial-over-LAN) is the one that
/// is logged; InitOS writes its log to all of them and opens a shell where Enter is pressed.
/// </summary>
public static class KernelConsoles
{
    public const string Default = "tty0 ttyS0,115200";

    /// <summary>
    /// <paramref name="cmdline"/> with console=X for each of <paramref name="consoles"/> in front,
    /// unless the command line names its consoles itself (then it is taken as it is).
    /// </summary>
    public static string Compose(string consoles, string cmdline)
    {
        var words = cmdline.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Any(w => w.StartsWith("console=", StringComparison.Ordinal)))
        {
            return cmdline.Trim();
        }
        var prefix = consoles.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Console);
        return string.Join(' ', prefix.Concat(words));
    }

    private static string Console(string name)
    {
        if (name.Contains('=', StringComparison.Ordinal) || name.StartsWith('-'))
        {
            throw new ArgumentException($"--consoles: '{name}' is not a console (expected a name like tty0 or ttyS0,115200)");
        }
        return "console=" + name;
    }
}

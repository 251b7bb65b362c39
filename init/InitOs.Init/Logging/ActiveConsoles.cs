namespace InitOs.Init.Logging;

/// <summary>
/// One console the kernel writes to. <see cref="DevicePath"/> is where to write (tty0 is
/// "whichever virtual terminal is in front"); <see cref="TerminalPath"/> is the terminal a
/// person types into, which can be a controlling terminal (tty0 resolved to tty1).
/// </summary>
public sealed record ConsoleDevice(string Name, string DevicePath, string TerminalPath)
{
    public override string ToString() => DevicePath == TerminalPath ? Name : $"{Name} ({Path.GetFileName(TerminalPath)})";
}

/// <summary>
/// The consoles of this boot, from /sys/class/tty/console/active (the kernel's console= list,
/// the last one being /dev/console). A console with no device node (netconsole) is left out:
/// nothing can be written to it or typed on it from here.
/// </summary>
public static class ActiveConsoles
{
    public static IReadOnlyList<ConsoleDevice> Read(string sysClassTty = "/sys/class/tty", string dev = "/dev")
    {
        var names = ReadWords(Path.Combine(sysClassTty, "console", "active"));
        var consoles = new List<ConsoleDevice>();
        foreach (var name in names)
        {
            var device = Path.Combine(dev, name);
            if (!File.Exists(device) || consoles.Any(c => c.DevicePath == device))
            {
                continue;
            }
            // tty0 is an alias of the foreground virtual terminal; sysfs names it.
            var front = ReadWords(Path.Combine(sysClassTty, name, "active")).FirstOrDefault();
            var terminal = front is not null && File.Exists(Path.Combine(dev, front)) ? Path.Combine(dev, front) : device;
            if (consoles.Any(c => c.TerminalPath == terminal))
            {
                continue; // console=tty0 console=tty1: one terminal
            }
            consoles.Add(new ConsoleDevice(name, device, terminal));
        }
        return consoles;
    }

    /// <summary>The console /dev/console is (the kernel's preferred one: the last console=), or null when sysfs does not say.</summary>
    public static ConsoleDevice? Preferred(string sysClassTty = "/sys/class/tty", string dev = "/dev")
    {
        var consoles = Read(sysClassTty, dev);
        return consoles.Count == 0 ? null : consoles[^1];
    }

    private static string[] ReadWords(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries) : [];
        }
        catch (IOException)
        {
            return [];
        }
    }
}

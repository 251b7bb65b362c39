using System.Text;
using InitOs.Init.Logging;
using InitOs.Init.Recovery;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.UnitTests.Recovery;

/// <summary>
/// Several consoles at once (a monitor and a serial line), with kernel pseudo-terminals standing
/// in for them: the log reaches each, and the shell goes where Enter is pressed.
/// </summary>
public sealed class ConsoleTests
{
    [Fact]
    public void The_active_consoles_come_from_sysfs_with_tty0_resolved_to_the_terminal_in_front()
    {
        using var root = new TempDirectory();
        var sys = Directory.CreateDirectory(root.File("sys")).FullName;
        var dev = Directory.CreateDirectory(root.File("dev")).FullName;
        Write(sys, "console/active", "netcon0 tty0 ttyS0\n");
        Write(sys, "tty0/active", "tty2\n");
        foreach (var node in new[] { "tty0", "tty2", "ttyS0" })
        {
            File.WriteAllText(Path.Combine(dev, node), "");
        }

        var consoles = ActiveConsoles.Read(sys, dev);

        Assert.Equal(
            [new ConsoleDevice("tty0", Path.Combine(dev, "tty0"), Path.Combine(dev, "tty2")), new ConsoleDevice("ttyS0", Path.Combine(dev, "ttyS0"), Path.Combine(dev, "ttyS0"))],
            consoles);
        Assert.Equal("ttyS0", ActiveConsoles.Preferred(sys, dev)!.Name);
        Assert.Equal("tty0 (tty2)", consoles[0].ToString());
    }

    [Fact]
    public void The_same_terminal_named_twice_is_one_console_and_no_sysfs_is_none()
    {
        using var root = new TempDirectory();
        var sys = Directory.CreateDirectory(root.File("sys")).FullName;
        var dev = Directory.CreateDirectory(root.File("dev")).FullName;
        Assert.Empty(ActiveConsoles.Read(sys, dev));
        Write(sys, "console/active", "tty0 tty1\n");
        Write(sys, "tty0/active", "tty1\n");
        File.WriteAllText(Path.Combine(dev, "tty0"), "");
        File.WriteAllText(Path.Combine(dev, "tty1"), "");
        Assert.Equal(["tty0"], ActiveConsoles.Read(sys, dev).Select(c => c.Name));
    }

    [Fact]
    public void The_log_goes_to_every_console()
    {
        using var a = new Pty();
        using var b = new Pty();
        var log = new BootLog();
        log.AttachConsoles([a.Console("tty0"), b.Console("ttyS0")]);
        log.Error("no root device");
        foreach (var pty in new[] { a, b })
        {
            var seen = pty.ReadUntil("no root device");
            Assert.Contains("consoles: tty0, ttyS0", seen, StringComparison.Ordinal);
            Assert.Contains("initos: error: no root device", seen, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_console_hung_up_when_its_session_ends_still_gets_the_log()
    {
        using var pty = new Pty();
        var writer = ConsoleWriter.Open(pty.SlavePath);
        // What the kernel does to a serial or virtual terminal when the session it controls ends
        // (an emergency shell exits); a pseudo-terminal is spared that, so the test asks for it.
        int other = Files.Open(pty.SlavePath, OpenFlags.ReadWrite | OpenFlags.NoCtty);
        Assert.Equal(0, Ioctl(other, TiocVhangup, 0));
        Files.Close(other);
        Assert.False(Files.WriteAll(writer.Fd, "lost\n"u8), "the old file of a hung-up terminal takes nothing");

        Assert.True(writer.Write("after the hang-up\n"u8));
        Assert.Contains("after the hang-up", pty.ReadUntil("after the hang-up"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_several_consoles_the_one_where_Enter_is_pressed_is_chosen_and_the_others_are_told()
    {
        using var screen = new Pty();
        using var serial = new Pty();
        var chosen = Task.Run(() => ConsoleChoice.Choose([screen.Console("tty0"), serial.Console("ttyS0")], "the emergency shell", new BootLog()));
        screen.ReadUntil("press Enter on this console");
        serial.ReadUntil("press Enter on this console");
        Assert.False(await Finishes(chosen, 300), "nothing typed yet: still waiting");

        serial.Type("\n");

        Assert.True(await Finishes(chosen, 10_000));
        Assert.Equal("ttyS0", (await chosen)!.Name);
        Assert.Contains($"the emergency shell is on ttyS0 ({serial.SlavePath})", screen.ReadUntil("is on ttyS0"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Typing_without_Enter_chooses_nothing_and_one_console_is_chosen_at_once()
    {
        using var screen = new Pty();
        using var serial = new Pty();
        var chosen = Task.Run(() => ConsoleChoice.Choose([screen.Console("tty0"), serial.Console("ttyS0")], "initos.break", new BootLog()));
        screen.ReadUntil("press Enter");
        screen.Type("ls");
        Assert.False(await Finishes(chosen, 500), "a line not ended yet is no choice");
        screen.Type("\r");
        Assert.True(await Finishes(chosen, 10_000));
        Assert.Equal("tty0", (await chosen)!.Name);

        Assert.Equal("ttyS0", ConsoleChoice.Choose([serial.Console("ttyS0")], "initos.break", new BootLog())!.Name);
    }

    private static async Task<bool> Finishes(Task task, int milliseconds) =>
        await Task.WhenAny(task, Task.Delay(milliseconds)) == task;

    private const ulong TiocVhangup = 0x5437;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "ioctl")]
    private static extern int Ioctl(int fd, ulong request, nint argument);

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A kernel pseudo-terminal: the slave plays a console, the test types and reads on the master.</summary>
    private sealed class Pty : IDisposable
    {
        private readonly int _master;
        private readonly StringBuilder _seen = new();

        public Pty() => (_master, SlavePath) = Terminal.OpenPty();

        public string SlavePath { get; }

        public ConsoleDevice Console(string name) => new(name, SlavePath, SlavePath);

        public void Type(string text) => Assert.True(Files.WriteAll(_master, Encoding.UTF8.GetBytes(text)));

        /// <summary>What the console showed, up to and including <paramref name="text"/> (10 s at most).</summary>
        public string ReadUntil(string text)
        {
            var buffer = new byte[4096];
            var read = Task.Run(() =>
            {
                while (!_seen.ToString().Contains(text, StringComparison.Ordinal))
                {
                    int n = Files.Read(_master, buffer);
                    _seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
                }
            });
            Assert.True(read.Wait(TimeSpan.FromSeconds(10)), $"'{text}' not shown; shown: {_seen}");
            return _seen.ToString();
        }

        public void Dispose() => Files.Close(_master);
    }
}

using InitOs.Efi.Uki;

namespace InitOs.UnitTests.Efi;

public sealed class KernelConsolesTests
{
    [Fact]
    public void The_default_puts_the_screen_and_the_serial_port_in_front_with_the_serial_port_last() =>
        Assert.Equal("console=tty0 console=ttyS0,115200 quiet root=LABEL=r", KernelConsoles.Compose(KernelConsoles.Default, "quiet root=LABEL=r"));

    [Fact]
    public void A_command_line_that_names_its_consoles_is_taken_as_it_is() =>
        Assert.Equal("console=ttyS1,9600 quiet", KernelConsoles.Compose(KernelConsoles.Default, " console=ttyS1,9600 quiet "));

    [Fact]
    public void No_consoles_adds_none_and_a_word_that_is_not_a_console_is_refused()
    {
        Assert.Equal("quiet", KernelConsoles.Compose("", "quiet"));
        var e = Assert.Throws<ArgumentException>(() => KernelConsoles.Compose("tty0 root=x", "quiet"));
        Assert.Contains("'root=x' is not a console", e.Message, StringComparison.Ordinal);
    }
}

using InitOs.Init.Config;

namespace InitOs.UnitTests.Config;

public sealed class KernelCommandLineTests
{
    [Fact]
    public void Splits_keys_flags_quotes_and_init_arguments()
    {
        var cmdline = KernelCommandLine.Parse("console=tty0 console=ttyS0,115200 root=\"LABEL=my root\" ro quiet -- single --foo\n");
        Assert.Equal(["tty0", "ttyS0,115200"], cmdline.All("console"));
        Assert.Equal("LABEL=my root", cmdline.Last("root"));
        Assert.True(cmdline.Has("ro"));
        Assert.Equal("", cmdline.Last("quiet"));
        Assert.Null(cmdline.Last("rw"));
        Assert.Equal(["single", "--foo"], cmdline.InitArguments);
    }

    [Fact]
    public void Later_values_win_and_a_value_may_contain_equals_signs()
    {
        var cmdline = KernelCommandLine.Parse("root=/dev/sda1 rootflags=subvol=@,compress=zstd root=UUID=abc");
        Assert.Equal("UUID=abc", cmdline.Last("root"));
        Assert.Equal("subvol=@,compress=zstd", cmdline.Last("rootflags"));
    }

    [Fact]
    public void Empty_input_has_no_parameters()
    {
        var cmdline = KernelCommandLine.Parse("  \n");
        Assert.Empty(cmdline.Parameters);
        Assert.Empty(cmdline.InitArguments);
    }
}

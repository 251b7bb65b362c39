using InitOs.ImageBuild.Qemu;
using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>
/// A machine with a monitor and a keyboard as well as a serial line (the default UKI's
/// `console=tty0 console=ttyS0,115200`): QEMU's standard VGA in text mode and a USB keyboard on
/// xHCI. The failed boot is on the screen (read OCR-free: the screendump's ink against the VGA
/// text memory), and the emergency shell opens on the screen once Enter is pressed there.
/// Keys go through QMP's input-send-event aimed at the screen, whose keyboard is the USB one
/// (usb-kbd,display=screen; QEMU gives a console's keys to the input device bound to it, so
/// the PS/2 keyboard the pc machine also has gets none of them).
/// </summary>
[Collection(BootCollection.Name)]
public sealed class ConsoleBootTests
{
    private const string Config = """
        mode = "switch_root"
        on_failure = "shell"

        [root]
        device = "LABEL=no-such-root"
        wait_seconds = 4

        [modules]
        profile = "explicit"
        load = []
        include = ["xhci_pci", "usbhid", "hid_generic"]
        coldplug = true
        """;

    private readonly BootImages _images;

    public ConsoleBootTests(BootImages images) => _images = images;

    [Fact]
    public void A_failed_boot_shows_on_the_screen_and_the_shell_opens_where_Enter_is_pressed()
    {
        using var scratch = new TempDirectory("initos-console-");
        var qmpSocket = scratch.File("qmp.sock");
        using var vm = new VmBoot(nameof(ConsoleBootTests), new QemuOptions
        {
            Kernel = _images.Kernel,
            Initrd = _images.InitramfsWith("consoles", Config + "\n"),
            Append = "console=tty0 console=ttyS0,115200 panic=-1 quiet",
            ExtraArguments = ["-vga", "none", "-device", "VGA,id=screen", "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,id=kbd,bus=xhci.0,display=screen", "-qmp", $"unix:{qmpSocket},server=on,wait=off"],
        });
        using var qmp = QmpClient.Connect(qmpSocket, TimeSpan.FromSeconds(30));

        vm.Expect(@"initos: consoles: tty0 \(tty1\), ttyS0");
        vm.Expect(@"(coldplug|hotplug) loaded \d+ modules: .*\busbhid\b");
        vm.Expect("root device LABEL=no-such-root not found after 4 s");
        vm.Expect("the emergency shell: press Enter on this console to have it here");

        // The person at the screen sees what went wrong: the kernel's echo of the error and PID 1's own lines.
        // PID 1 logs "waiting for Enter" after it has asked on every console, so that line is the one to wait for.
        var failed = VgaScreen.WaitFor(qmp, scratch.Path, "initos: the emergency shell: waiting for Enter on tty0 (tty1), ttyS0");
        foreach (var line in new[] { "initos: error: boot failed: phase devices, task wait-for-root failed: root device LABEL=no-such-root not found", "the emergency shell: press Enter on this console to have it here" })
        {
            Assert.True(failed.Flat.Contains(line, StringComparison.Ordinal), $"'{line}' is not on the screen:{failed.Text}");
        }

        qmp.Type("screen", "ret");
        vm.Expect(@"the emergency shell is on tty0 \(/dev/tty1\)");
        vm.Expect(@"emergency shell: fix the problem, then exit the shell to retry \(on /dev/tty1\)");
        VgaScreen.WaitFor(qmp, scratch.Path, "(initos emergency) / #");

        qmp.TypeText("screen", "uname -s\n");
        var shell = VgaScreen.WaitFor(qmp, scratch.Path, "\nLinux\n");
        Assert.Contains("(initos emergency) / # uname -s", shell.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("(initos emergency)", vm.Session.Log, StringComparison.Ordinal);
    }
}

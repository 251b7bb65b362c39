using InitOs.ImageBuild.Qemu;

namespace InitOs.TestKit;

/// <summary>
/// One QEMU boot for a test: starts the machine, and on failure keeps the serial log under
/// tests/artifacts/ (the exception message carries it too). The machine is killed on dispose.
/// </summary>
public sealed class VmBoot : IDisposable
{
    public static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);

    private readonly string _name;

    public VmBoot(string name, BootImages images, string append, string? initramfs = null, params string[] disks)
        : this(name, images, append, initramfs, exitOnReboot: true, disks)
    {
    }

    /// <summary><paramref name="exitOnReboot"/> false lets a guest reboot inside the same QEMU (to count boots).</summary>
    public VmBoot(string name, BootImages images, string append, string? initramfs, bool exitOnReboot, params string[] disks)
    {
        _name = name;
        Session = QemuSession.Start(new QemuOptions
        {
            Kernel = images.Kernel,
            Initrd = initramfs ?? images.Initramfs,
            Disks = disks.Length > 0 ? disks : [images.Rootfs],
            Append = "console=ttyS0 panic=-1 quiet " + append,
            NoReboot = exitOnReboot,
        });
    }

    /// <summary>Any boot, UEFI included, from options the caller made.</summary>
    public VmBoot(string name, QemuOptions options)
    {
        _name = name;
        Session = QemuSession.Start(options);
    }

    public QemuSession Session { get; }

    /// <summary>Waits for a whole console line that matches <paramref name="pattern"/>.</summary>
    public System.Text.RegularExpressions.Match Expect(string pattern, TimeSpan? timeout = null) =>
        Keep(() => Session.WaitFor(pattern, timeout ?? BootTimeout));

    /// <summary>Waits for text that no newline follows: a shell's prompt.</summary>
    public System.Text.RegularExpressions.Match ExpectPrompt(string pattern, TimeSpan? timeout = null) =>
        Keep(() => Session.WaitForPrompt(pattern, timeout ?? BootTimeout));

    public void ExpectExit(TimeSpan? timeout = null) => Keep(() =>
    {
        Session.WaitForExit(timeout ?? BootTimeout);
        return 0;
    });

    private T Keep<T>(Func<T> wait)
    {
        try
        {
            return wait();
        }
        catch (QemuTimeoutException e)
        {
            var kept = Path.Combine(RepoPaths.Artifacts, _name + ".log");
            File.WriteAllText(kept, Session.Log);
            throw new QemuTimeoutException($"{e.Message.Split('\n')[0]} (the console log is kept in {kept})", e.ConsoleLog);
        }
    }

    public void Dispose()
    {
        File.WriteAllText(Path.Combine(RepoPaths.Artifacts, _name + ".last.log"), Session.Log);
        Session.Dispose();
    }
}

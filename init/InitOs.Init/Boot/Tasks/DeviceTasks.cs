using System.Diagnostics;
using System.Globalization;
using InitOs.Init.Devices;

namespace InitOs.Init.Boot.Tasks;

/// <summary>The devices phase: wait, bounded, for the root device named by root=.</summary>
public static class DeviceTasks
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ColdplugInterval = TimeSpan.FromSeconds(1);

    public static void WaitForRoot(BootContext context) => WaitForRoot(context, new BlockDeviceScanner());

    public static void WaitForRoot(BootContext context, BlockDeviceScanner scanner)
    {
        var settings = context.RequireSettings();
        var text = settings.Root ?? throw new BootException("no root device: give root= on the kernel command line or root.device in the config");
        var spec = RootSpec.Parse(text);
        var clock = Stopwatch.StartNew();
        var lastColdplug = TimeSpan.Zero;
        while (true)
        {
            var devices = scanner.Scan();
            var found = spec.Find(devices);
            if (found is not null)
            {
                context.RootDevice = found;
                context.Log.Info(string.Create(CultureInfo.InvariantCulture, $"root={spec.Text} is {found.DevicePath} {found.Describe()} after {clock.Elapsed.TotalSeconds:F2} s"));
                return;
            }
            if (clock.Elapsed >= settings.RootWait)
            {
                throw new BootException(NotFound(spec, settings.RootWait, devices));
            }
            // Hardware that appears late (USB, slow controllers) may need its driver: coldplug again now and then.
            if (clock.Elapsed - lastColdplug >= ColdplugInterval)
            {
                lastColdplug = clock.Elapsed;
                ModuleTasks.RunColdplug(context);
            }
            Thread.Sleep(PollInterval);
        }
    }

    public static string NotFound(RootSpec spec, TimeSpan waited, IReadOnlyList<BlockDevice> devices) =>
        string.Create(CultureInfo.InvariantCulture, $"root device {spec.Text} not found after {waited.TotalSeconds:F0} s; block devices seen: ") +
        (devices.Count == 0 ? "none" : string.Join(", ", devices.Select(d => d.Describe())));
}

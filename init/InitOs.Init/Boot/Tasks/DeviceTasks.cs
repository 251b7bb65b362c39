using System.Diagnostics;
using System.Globalization;
using InitOs.Init.Devices;

namespace InitOs.Init.Boot.Tasks;

/// <summary>The devices and data phases: wait, bounded, for the root device named by root= and the data volume.</summary>
public static class DeviceTasks
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ColdplugInterval = TimeSpan.FromSeconds(1);

    public static void WaitForRoot(BootContext context) => WaitForRoot(context, new BlockDeviceScanner());

    public static void WaitForRoot(BootContext context, BlockDeviceScanner scanner)
    {
        var settings = context.RequireSettings();
        var text = settings.Root ?? throw new BootException("no root device: give root= on the kernel command line or root.device in the config");
        context.RootDevice = WaitFor(context, scanner, "root", Spec("root", text), settings.RootWait);
    }

    /// <summary>The data volume ([data] device or initos.data=), when one is configured.</summary>
    public static void WaitForData(BootContext context)
    {
        var data = context.RequireSettings().Data ?? throw new BootException("no data volume is configured");
        context.DataDevice = WaitFor(context, new BlockDeviceScanner(), "data", Spec("data", data.Device!), TimeSpan.FromSeconds(data.WaitSeconds));
    }

    /// <summary>Any other device a phase needs (the ESP for upgrades), waited for the same way.</summary>
    public static BlockDevice WaitForDevice(BootContext context, string role, string spec, TimeSpan wait) =>
        WaitFor(context, new BlockDeviceScanner(), role, Spec(role, spec), wait);

    private static RootSpec Spec(string role, string text)
    {
        try
        {
            return RootSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new BootException($"{role}={text}: {e.Message}");
        }
    }

    /// <summary>Polls sysfs until the spec matches a device; past the wait, an error naming what was sought and what was seen.</summary>
    private static BlockDevice WaitFor(BootContext context, BlockDeviceScanner scanner, string role, RootSpec spec, TimeSpan wait)
    {
        var clock = Stopwatch.StartNew();
        var lastColdplug = TimeSpan.Zero;
        while (true)
        {
            var devices = scanner.Scan();
            var found = spec.Find(devices);
            if (found is not null && context.Coldplug is { } run && !run.IsDone)
            {
                // Taken only once the config's drivers have probed all their devices: an impostor
                // with the same label on the same controllers is then seen (and refused) too.
                run.WaitFirstTier(FirstTierWait);
                found = spec.Find(scanner.Scan()) ?? found;
            }
            if (found is not null)
            {
                context.Log.Info(string.Create(CultureInfo.InvariantCulture, $"{role}={spec.Text} is {found.DevicePath} {found.Describe()} after {clock.Elapsed.TotalSeconds:F2} s"));
                return found;
            }
            if (clock.Elapsed >= wait)
            {
                throw new BootException(NotFound(role, spec, wait, devices) + MissingDrivers.Describe(context));
            }
            // Hardware that appears late (USB, slow controllers) may need its driver: coldplug again now and then.
            if (clock.Elapsed - lastColdplug >= ColdplugInterval)
            {
                lastColdplug = clock.Elapsed;
                ModuleTasks.ColdplugAgain(context);
            }
            Thread.Sleep(PollInterval);
        }
    }

    /// <summary>How long a found root waits for coldplug's first tier before it is taken anyway.</summary>
    private static readonly TimeSpan FirstTierWait = TimeSpan.FromSeconds(10);

    public static string NotFound(string role, RootSpec spec, TimeSpan waited, IReadOnlyList<BlockDevice> devices) =>
        string.Create(CultureInfo.InvariantCulture, $"{role} device {spec.Text} not found after {waited.TotalSeconds:F0} s; block devices seen: ") +
        (devices.Count == 0 ? "none" : string.Join(", ", devices.Select(d => d.Describe())));
}

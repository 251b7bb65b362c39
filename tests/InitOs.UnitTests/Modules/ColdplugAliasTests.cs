using InitOs.Init.Modules;
using InitOs.TestKit;

namespace InitOs.UnitTests.Modules;

public sealed class ColdplugAliasTests
{
    /// <summary>
    /// Devices are found through /sys/bus/*/devices/* (links into /sys/devices, as sysfs has
    /// them); an SD card says what it is only in its uevent (MMC has no modalias file), a PCI
    /// device in both; a device on no bus, or with no alias, asks for nothing.
    /// </summary>
    [Fact]
    public void Aliases_come_from_each_bus_device_s_modalias_or_uevent_line_each_once_in_order()
    {
        using var sys = new TempDirectory("initos-sysfs-");
        var pci = Directory.CreateDirectory(Path.Combine(sys.Path, "devices/pci0000:00/0000:00:04.0")).FullName;
        File.WriteAllText(Path.Combine(pci, "modalias"), "pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01\n");
        File.WriteAllText(Path.Combine(pci, "uevent"), "DRIVER=sdhci-pci\nPCI_CLASS=80501\nMODALIAS=pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01\n");
        var card = Directory.CreateDirectory(Path.Combine(pci, "mmc_host/mmc0/mmc0:4567")).FullName;
        File.WriteAllText(Path.Combine(card, "uevent"), "MMC_TYPE=SD\nMMC_NAME=QEMU!\nMODALIAS=mmc:block\n");
        File.WriteAllText(Path.Combine(pci, "mmc_host/mmc0/uevent"), "DEVTYPE=mmc_host\n");
        var loose = Directory.CreateDirectory(Path.Combine(sys.Path, "devices/virtual/misc/thing")).FullName;
        File.WriteAllText(Path.Combine(loose, "modalias"), "platform:not-on-a-bus\n");
        var bridge = Directory.CreateDirectory(Path.Combine(sys.Path, "devices/pci0000:00/0000:00:00.0")).FullName;
        File.WriteAllText(Path.Combine(bridge, "uevent"), "PCI_CLASS=60000\n");
        Link(sys.Path, "bus/pci/devices/0000:00:04.0", pci);
        Link(sys.Path, "bus/pci/devices/0000:00:00.0", bridge);
        Link(sys.Path, "bus/mmc/devices/mmc0:4567", card);
        Directory.CreateDirectory(Path.Combine(sys.Path, "bus/empty/devices"));

        Assert.Equal(["mmc:block", "pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01"], Coldplug.Modaliases(sys.Path));
    }

    private static void Link(string sys, string at, string target)
    {
        var link = Path.Combine(sys, at);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        Directory.CreateSymbolicLink(link, target);
    }
}

public sealed class ColdplugStopTests
{
    /// <summary>A PCI device of a fake sysfs, and the module (a file that is no module: the kernel refuses it) that its alias names.</summary>
    private sealed record FakeDevice(string Slot, string Modalias, string Module, string Directory, string AliasPattern);

    private static readonly FakeDevice Ide = new("0000:00:01.1", "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80", "ata_piix", "kernel/drivers/ata", "pci:v00008086d00007010sv*sd*bc*sc*i*");
    private static readonly FakeDevice Virtio = new("0000:00:04.0", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", "virtio_pci", "kernel/drivers/virtio", "pci:v00001AF4d*sv*sd*bc*sc*i*");

    /// <summary>A sysfs with the devices under /sys/bus/pci/devices, and a module tree whose modules.dep and modules.alias name their drivers.</summary>
    private static ModuleIndex Machine(TempDirectory sys, TempDirectory modules, params FakeDevice[] devices)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(sys.Path, "bus/pci/devices"));
        foreach (var device in devices)
        {
            var directory = System.IO.Directory.CreateDirectory(Path.Combine(sys.Path, "devices/pci0000:00", device.Slot)).FullName;
            File.WriteAllText(Path.Combine(directory, "modalias"), device.Modalias + "\n");
            System.IO.Directory.CreateSymbolicLink(Path.Combine(sys.Path, "bus/pci/devices", device.Slot), directory);
            System.IO.Directory.CreateDirectory(modules.File(device.Directory));
            File.WriteAllText(modules.File($"{device.Directory}/{device.Module}.ko"), "not an ELF file");
        }
        File.WriteAllText(modules.File("modules.dep"), string.Concat(devices.Select(d => $"{d.Directory}/{d.Module}.ko:\n")));
        File.WriteAllText(modules.File("modules.alias"), string.Concat(devices.Select(d => $"alias {d.AliasPattern} {d.Module}\n")));
        return ModuleIndex.Load(modules.Path);
    }

    /// <summary>
    /// Stopped (at the hand-off to switch_root), coldplug starts no load and names each driver
    /// it left to the OS; not stopped, it tries each (a file that is no module is refused by the
    /// kernel and named in a warning, and the boot goes on).
    /// </summary>
    [Fact]
    public void A_stopped_coldplug_loads_nothing_and_names_what_it_left_and_a_running_one_tries_each_driver()
    {
        using var sys = new TempDirectory("initos-sysfs-");
        using var modules = new TempDirectory("initos-modules-");
        var index = Machine(sys, modules, Ide);
        var log = new InitOs.Init.Logging.BootLog();

        var stopped = new Coldplug(index, new ModuleLoader(index, modules.Path, []), log);
        Assert.Empty(stopped.Run(sys.Path, stopRequested: () => true));
        Assert.Empty(stopped.Skipped);

        var late = new Coldplug(index, new ModuleLoader(index, modules.Path, []), log);
        bool stop = false;
        Assert.Empty(late.Run(sys.Path, rounds: 1, stopRequested: () => { var was = stop; stop = true; return was; }));
        Assert.Equal(["ata_piix"], late.Skipped);

        var running = new Coldplug(index, new ModuleLoader(index, modules.Path, []), log);
        Assert.Empty(running.Run(sys.Path));
        Assert.Empty(running.Skipped);
    }

    /// <summary>
    /// The drivers the config names load in the first tier; once the boot has its root, the
    /// others (profile host's IDE controller of a machine whose root is on virtio) are left to
    /// the OS. Without a config list, every driver outside the store is one tier.
    /// </summary>
    [Fact]
    public void The_configs_drivers_come_first_and_the_rest_are_left_once_the_root_is_there()
    {
        using var sys = new TempDirectory("initos-sysfs-");
        using var modules = new TempDirectory("initos-modules-");
        var index = Machine(sys, modules, Ide, Virtio);
        var log = new InitOs.Init.Logging.BootLog();

        var known = new Coldplug(index, new ModuleLoader(index, modules.Path, []), log, first: ["virtio-pci"]);
        known.Run(sys.Path, rounds: 1, enough: () => true);
        Assert.Equal(["ata_piix"], known.Skipped);

        var unknown = new Coldplug(index, new ModuleLoader(index, modules.Path, []), log);
        unknown.Run(sys.Path, rounds: 1, enough: () => true);
        Assert.Empty(unknown.Skipped);
    }

    /// <summary>
    /// The search for the root waits on coldplug's first tier (the config's drivers) before it
    /// takes a root, so a second disk with the same label on those controllers is seen too: the
    /// mark comes after that tier's loads, also when the run has no other tier.
    /// </summary>
    [Fact]
    public void The_first_tiers_mark_comes_once_its_loads_are_done_with_or_without_later_tiers()
    {
        using var sys = new TempDirectory("initos-sysfs-");
        using var modules = new TempDirectory("initos-modules-");
        var index = Machine(sys, modules, Ide, Virtio);
        var log = new InitOs.Init.Logging.BootLog();
        using var gate = new ManualResetEventSlim();
        // Held between the tiers: the IDE driver (not the config's) waits until the test lets it go.
        var run = ColdplugRun.Start(new Coldplug(index, new ModuleLoader(index, modules.Path, []), log, first: ["virtio_pci"]), log, rounds: 1,
            enough: () => { gate.Wait(); return false; }, sysRoot: sys.Path);
        Assert.True(run.WaitFirstTier(TimeSpan.FromSeconds(30)));
        Assert.False(run.IsDone);
        gate.Set();
        Assert.True(run.Wait(TimeSpan.FromSeconds(30)));

        // One tier only: the mark comes when the run ends.
        using var sysAlone = new TempDirectory("initos-sysfs-");
        using var modulesAlone = new TempDirectory("initos-modules-");
        var alone = Machine(sysAlone, modulesAlone, Virtio);
        var single = ColdplugRun.Start(new Coldplug(alone, new ModuleLoader(alone, modulesAlone.Path, []), log, first: ["virtio_pci"]), log, rounds: 1, sysRoot: sysAlone.Path);
        Assert.True(single.WaitFirstTier(TimeSpan.FromSeconds(30)));
        Assert.True(single.Wait(TimeSpan.FromSeconds(1)));
    }
}

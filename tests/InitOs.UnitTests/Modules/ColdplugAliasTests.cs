using InitOs.Init.Modules;
using InitOs.TestKit;

namespace InitOs.UnitTests.Modules;

public sealed class ColdplugAliasTests
{
    /// <summary>An SD card says what it is only in its uevent (MMC has no modalias file); a PCI device in both.</summary>
    [Fact]
    public void Aliases_come_from_modalias_files_and_from_uevent_lines_each_once_and_links_are_not_followed()
    {
        using var sys = new TempDirectory("initos-sysfs-");
        var pci = Directory.CreateDirectory(Path.Combine(sys.Path, "pci0000:00/0000:00:04.0")).FullName;
        File.WriteAllText(Path.Combine(pci, "modalias"), "pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01\n");
        File.WriteAllText(Path.Combine(pci, "uevent"), "DRIVER=sdhci-pci\nPCI_CLASS=80501\nMODALIAS=pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01\n");
        var card = Directory.CreateDirectory(Path.Combine(pci, "mmc_host/mmc0/mmc0:4567")).FullName;
        File.WriteAllText(Path.Combine(card, "uevent"), "MMC_TYPE=SD\nMMC_NAME=QEMU!\nMODALIAS=mmc:block\n");
        File.WriteAllText(Path.Combine(pci, "mmc_host/mmc0/uevent"), "DEVTYPE=mmc_host\n");
        Directory.CreateSymbolicLink(Path.Combine(card, "subsystem"), sys.Path);

        Assert.Equal(["mmc:block", "pci:v00001B36d00000007sv00001AF4sd00001100bc08sc05i01"], Coldplug.Modaliases(sys.Path));
    }
}

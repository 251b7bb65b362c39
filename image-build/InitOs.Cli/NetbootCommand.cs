using System.CommandLine;
using InitOs.ImageBuild.Disk;

namespace InitOs.Cli;

/// <summary>`initos build netboot`: the directory a UEFI PXE or HTTP boot server serves.</summary>
internal static class NetbootCommand
{
    public static Command Create()
    {
        var uki = Cli.Option<string>("--uki", "the signed UKI (initos build uki)", () => "out/initos.efi");
        var output = Cli.Option<string>("--output", "the directory to serve by TFTP or HTTP", () => "out/netboot");
        var command = new Command("netboot", "lay out what a UEFI network boot server serves: the UKI as the boot file, and DHCP settings")
        {
            uki, output,
        };
        command.SetAction(r =>
        {
            var bootFile = NetbootLayout.Write(r.GetValue(uki)!, r.GetValue(output)!);
            Console.WriteLine($"netboot {r.GetValue(output)}: boot file {NetbootLayout.BootFile} ({new FileInfo(bootFile).Length >> 20} MiB); DHCP settings in {NetbootLayout.DhcpNotes}");
            return 0;
        });
        return command;
    }
}

using InitOs.Sys;

namespace InitOs.ImageBuild.Disk;

/// <summary>
/// What a UEFI network boot server serves: the signed UKI itself is the network boot program
/// (UEFI PXE fetches it by TFTP, UEFI HTTP boot by URL, and the firmware checks its signature
/// as it would on a disk), plus the DHCP settings that point machines at it.
/// </summary>
public static class NetbootLayout
{
    public const string BootFile = "initos.efi";
    public const string DhcpNotes = "dhcp.txt";

    /// <summary>Writes DIR/initos.efi (replaced whole) and DIR/dhcp.txt; returns the boot file's path.</summary>
    public static string Write(string uki, string directory)
    {
        if (!File.Exists(uki))
        {
            throw new FileNotFoundException($"netboot: the UKI {uki} does not exist (initos build uki)");
        }
        Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, BootFile);
        var temporary = target + ".tmp";
        File.Copy(uki, temporary, overwrite: true);
        AtomicFile.Replace(temporary, target);
        AtomicFile.WriteText(Path.Combine(directory, DhcpNotes), Notes);
        return target;
    }

    private const string Notes = """
        Serve this directory by TFTP (UEFI PXE) or HTTP (UEFI HTTP boot); the boot file is initos.efi.

        dnsmasq, x86-64 UEFI clients (DHCP option 93 = 7 or 9):
          dhcp-match=set:efi64,option:client-arch,7
          dhcp-match=set:efi64,option:client-arch,9
          dhcp-boot=tag:efi64,initos.efi
          enable-tftp
          tftp-root=THIS_DIRECTORY

        ISC dhcpd:
          if option arch = 00:07 or option arch = 00:09 { filename "initos.efi"; }

        UEFI HTTP boot (vendor class "HTTPClient"): answer with the URL, e.g.
          filename "http://SERVER/initos.efi"; option vendor-class-identifier "HTTPClient";

        Under Secure Boot the firmware checks initos.efi's signature as on a disk: sign it with a key in db.
        """;
}

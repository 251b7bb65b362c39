using System.Text;
using InitOs.Sys;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// The variables systemd-boot and systemd-stub leave for the OS (the Boot Loader Interface):
/// which partition the ESP is, which entry was booted, and the renamed file of a counted boot.
/// Read from efivarfs, mounted read-only when nothing has mounted it. They are the firmware's
/// word, not proof: an entry they name is looked up on the ESP and its version checked against
/// the signed config before anything acts on it.
/// </summary>
public static class EfiVariables
{
    public const string Directory = "/sys/firmware/efi/efivars";
    private const string LoaderGuid = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

    /// <summary>The ESP's GPT partition UUID, lower case (set by systemd-boot and systemd-stub).</summary>
    public static string? LoaderDevicePartUuid() => Read("LoaderDevicePartUUID")?.ToLowerInvariant();

    /// <summary>The booted entry's id as systemd-boot listed it (a type-2 entry: its file name, lower case, before the rename).</summary>
    public static string? LoaderEntrySelected() => Read("LoaderEntrySelected");

    /// <summary>A counted boot: the entry's path after systemd-boot renamed it (\EFI\Linux\initos-2.0+2-1.efi).</summary>
    public static string? LoaderBootCountPath() => Read("LoaderBootCountPath");

    /// <summary>A loader variable's UTF-16 string (after the 4 attribute bytes, up to the NUL), or null.</summary>
    public static string? Read(string name)
    {
        var path = System.IO.Path.Combine(Directory, $"{name}-{LoaderGuid}");
        EnsureMounted();
        if (!File.Exists(path))
        {
            return null;
        }
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 6)
        {
            return null;
        }
        var text = Encoding.Unicode.GetString(bytes, 4, (bytes.Length - 4) & ~1);
        int nul = text.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? text[..nul] : text;
    }

    private static void EnsureMounted()
    {
        if (!System.IO.Directory.Exists(Directory) || System.IO.Directory.EnumerateFileSystemEntries(Directory).Any())
        {
            return;
        }
        try
        {
            Mounts.Mount("efivarfs", Directory, "efivarfs", MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null);
        }
        catch (SysException)
        {
            // Without efivarfs (no module, no UEFI) the variables read as absent.
        }
    }
}

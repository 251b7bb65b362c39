namespace InitOs.Init;

/// <summary>
/// The one version of a build: `git describe` when it was built (scripts/version.sh, through
/// Directory.Build.targets), stamped into every assembly, so the workstation's `initos --version`,
/// the machine's `initos version`, the initramfs's os-release and the UKI's .osrel agree.
/// </summary>
public static partial class BuildVersion
{
    // Text: the generated constant (obj/BuildVersion.g.cs, made by InitOs.Init.csproj).

    /// <summary>os-release for the initramfs (/etc/os-release) and the UKI's .osrel.</summary>
    public static string OsRelease => OsReleaseFor(null);

    /// <summary>
    /// os-release for an image of release <paramref name="release"/> ([upgrade] version): its
    /// IMAGE_VERSION, which systemd-boot orders boot entries by, newest first. VERSION stays the
    /// build's, so `initos version` and the image's release are both on record.
    /// </summary>
    public static string OsReleaseFor(string? release)
    {
        var image = release ?? Text;
        var pretty = release is null ? $"InitOS {Text}" : $"InitOS {release} ({Text})";
        return $"NAME=\"InitOS\"\nID=initos\nVERSION=\"{Text}\"\nVERSION_ID={Text}\nIMAGE_ID=initos\nIMAGE_VERSION={image}\nPRETTY_NAME=\"{pretty}\"\n";
    }
}

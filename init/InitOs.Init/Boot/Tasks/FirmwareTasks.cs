using InitOs.Init.Machine;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// What the boot log says about how the machine was started: UEFI or not, Secure Boot (from the
/// kernel's lockdown, which Debian's kernel turns on exactly when Secure Boot is on), and the
/// TPM's PCR 11, where systemd-stub measured the UKI's sections (comparable with the value
/// `initos build uki` predicted).
/// </summary>
public static class FirmwareTasks
{
    public const string SecurityFs = "/sys/kernel/security";
    public const string Pcr11Path = "/sys/class/tpm/tpm0/pcr-sha256/11";

    public static void Report(BootContext context, ISystem system)
    {
        context.Log.Info($"firmware: {Describe(system)}");
        if (Read(Pcr11Path) is { } pcr)
        {
            context.Log.Info($"tpm: PCR 11 (sha256) = {pcr.ToLowerInvariant()}");
        }
    }

    private static string Describe(ISystem system)
    {
        if (!Directory.Exists("/sys/firmware/efi"))
        {
            return "BIOS or direct kernel boot (no UEFI)";
        }
        var lockdown = Lockdown(system);
        return lockdown switch
        {
            null => "UEFI, secure boot unknown (no kernel lockdown interface)",
            "none" => "UEFI, secure boot off",
            _ => $"UEFI, secure boot on (kernel lockdown: {lockdown})",
        };
    }

    /// <summary>The selected mode of /sys/kernel/security/lockdown ("none [integrity] confidentiality" → "integrity").</summary>
    private static string? Lockdown(ISystem system)
    {
        var path = Path.Combine(SecurityFs, "lockdown");
        if (!File.Exists(path) && Directory.Exists(SecurityFs))
        {
            try
            {
                system.Mount("securityfs", SecurityFs, "securityfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null);
            }
            catch (SysException)
            {
                return null;
            }
        }
        var text = Read(path);
        int open = text?.IndexOf('[', StringComparison.Ordinal) ?? -1;
        int close = text?.IndexOf(']', StringComparison.Ordinal) ?? -1;
        return open >= 0 && close > open ? text![(open + 1)..close] : null;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

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
    public const string Pcr7Path = "/sys/class/tpm/tpm0/pcr-sha256/7";

    /// <summary>
    /// The early cpio's CPU microcode was read by the kernel before PID 1 ran; unpacked into
    /// the initramfs it only holds RAM (all of Intel's is about 20 MiB), so it goes.
    /// </summary>
    public static void FreeMicrocode(BootContext context, string root = "/")
    {
        var microcode = Path.Combine(root, "kernel/x86/microcode");
        if (!File.Exists(Path.Combine(root, "etc/initrd-release")) || !Directory.Exists(microcode))
        {
            return;
        }
        long bytes = Directory.EnumerateFiles(microcode).Sum(f => new FileInfo(f).Length);
        Directory.Delete(Path.Combine(root, "kernel"), recursive: true);
        context.Log.Info($"firmware: CPU microcode was offered to the kernel early; its {bytes >> 10} KiB copy in the initramfs freed");
    }

    public static void Report(BootContext context, ISystem system)
    {
        context.Log.Info($"firmware: {Describe(system)}");
        // PCR 7 (the Secure Boot state) is what a build-time enrolment for this machine needs (`initos build enroll-tpm --pcr7`).
        if (Read(Pcr7Path) is { } pcr7)
        {
            context.Log.Info($"tpm: PCR 7 (sha256) = {pcr7.ToLowerInvariant()}");
        }
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

    /// <summary>
    /// Whether the machine booted under Secure Boot: the kernel locked itself down (Debian's
    /// does exactly then), or the firmware's SecureBoot variable says so. Without UEFI, no.
    /// </summary>
    public static bool SecureBootEnforced(ISystem system) =>
        Directory.Exists("/sys/firmware/efi") && (Lockdown(system) is { } mode && mode != "none" || EfiSecureBootVariable(system) == true);

    /// <summary>The SecureBoot EFI variable's value byte (after 4 attribute bytes), read from efivarfs mounted read-only if need be.</summary>
    private static bool? EfiSecureBootVariable(ISystem system)
    {
        const string efivars = "/sys/firmware/efi/efivars";
        var variable = Path.Combine(efivars, "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
        if (!File.Exists(variable) && Directory.Exists(efivars))
        {
            try
            {
                system.Mount("efivarfs", efivars, "efivarfs", MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, null);
            }
            catch (SysException)
            {
                return null;
            }
        }
        try
        {
            var bytes = File.Exists(variable) ? File.ReadAllBytes(variable) : [];
            return bytes.Length >= 5 ? bytes[4] == 1 : null;
        }
        catch (IOException)
        {
            return null;
        }
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

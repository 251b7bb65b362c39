using System.Text;
using InitOs.Init.Config;
using InitOs.Init.Crypt;
using InitOs.Init.Logging;
using InitOs.Init.Tpm;
using InitOs.Sys;

namespace InitOs.Init.Boot.Tasks;

/// <summary>
/// The crypt phase: each [[crypt]] volume found (as a root is: by UUID or label of its LUKS
/// header, PARTLABEL, …) and opened with dm-crypt as /dev/mapper/NAME, its key sources tried
/// in order, before the data volume and the root are looked for. A volume that stays locked
/// fails the boot with the failure policy.
/// </summary>
public static class CryptTasks
{
    /// <summary>
    /// dm-crypt and the cipher mode of LUKS2's default (aes-xts-plain64; AES itself is built into
    /// Debian's kernel, and AES-NI's faster one is loaded where the CPU has it); cryptsetup
    /// decrypts key slots through AF_ALG. No modprobe runs to fetch them on demand.
    /// </summary>
    public static readonly IReadOnlyList<string> Modules = ["dm_mod", "dm_crypt", "xts", "algif_skcipher"];

    /// <summary>AES with the CPU's instructions, packed too, loaded only where the CPU has them.</summary>
    public const string AesNi = "aesni_intel";

    public static bool HasVolumes(BootContext context) => context.RequireSettings().Crypt.Count > 0;

    public static void OpenVolumes(BootContext context)
    {
        var settings = context.RequireSettings();
        if (!File.Exists(Cryptsetup.Binary))
        {
            throw new BootException($"[[crypt]] volumes need {Cryptsetup.Binary}, and this initramfs has none (`initos build initramfs` packs it when the config has [[crypt]])");
        }
        bool aesNi = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Split(' ').Contains("aes"));
        ModuleTasks.LoadFor(context, aesNi ? [.. Modules, AesNi] : Modules, "[[crypt]] volumes");
        var cryptsetup = new Cryptsetup(context.Reaper ?? throw new InvalidOperationException("the boot has no reaper"));
        foreach (var volume in settings.Crypt)
        {
            Open(context, cryptsetup, volume);
        }
    }

    private static void Open(BootContext context, Cryptsetup cryptsetup, CryptConfig volume)
    {
        var name = volume.Name!;
        var device = DeviceTasks.WaitForDevice(context, $"crypt {name}", volume.Device!, TimeSpan.FromSeconds(volume.WaitSeconds));
        foreach (var source in volume.Keys)
        {
            var how = source switch
            {
                CryptKeySource.Passphrase => WithPassphrase(context, cryptsetup, volume, device.DevicePath),
                CryptKeySource.Tpm2 => WithTpm(context, cryptsetup, volume, device.DevicePath),
                _ => throw new InvalidOperationException($"key source {source}"),
            };
            if (how is not null)
            {
                context.Log.Info($"crypt: {name} ({device.DevicePath}) opened by {how} as /dev/mapper/{name}");
                CryptStatus.Record(name, device.DevicePath, how);
                return;
            }
        }
        throw new BootException($"crypt: {name} ({volume.Device} on {device.DevicePath}) stays locked: no key source opened it ({string.Join(", ", volume.Keys.Select(k => k.ToString().ToLowerInvariant()))})");
    }

    /// <summary>
    /// The TPM's way: each initos-tpm2 token's key is unsealed (a salted session, PCR 7 and 11 as
    /// this boot left them) until one is, then the volume is opened with that key in that key
    /// slot. "tpm (…)" when it opened, null (each reason logged) to go on to the next key source.
    /// </summary>
    private static string? WithTpm(BootContext context, Cryptsetup cryptsetup, CryptConfig volume, string devicePath)
    {
        var name = volume.Name!;
        if (!File.Exists(TpmDevice.ResourceManager))
        {
            context.Log.Warn($"crypt: {name}: this machine shows no TPM ({TpmDevice.ResourceManager} is missing)");
            return null;
        }
        var tokens = TpmToken.FromMetadata(cryptsetup.Metadata(devicePath), warning => context.Log.Warn($"crypt: {name}: {warning}"));
        if (tokens.Count == 0)
        {
            context.Log.Warn($"crypt: {name} has no TPM-sealed key (`initos admin disk enroll-tpm {name}` seals one)");
            return null;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var tpm = new Tpm2(TpmDevice.Open());
        if (TpmKeys.Unseal(tpm, tokens, warning => context.Log.Warn($"crypt: {name}: {warning}")) is not var (token, key))
        {
            context.Log.Warn($"crypt: the TPM unsealed none of {name}'s {tokens.Count} key(s): this UKI or this Secure Boot state was not enrolled");
            return null;
        }
        long unsealMs = clock.ElapsedMilliseconds;
        try
        {
            var (outcome, message, _) = cryptsetup.Open(devicePath, name, key, token.KeySlot);
            if (outcome != OpenOutcome.Opened)
            {
                context.Log.Warn($"crypt: {name}: the key the TPM unsealed ({token}) did not open it: {message}");
                return null;
            }
        }
        finally
        {
            Array.Clear(key);
        }
        context.Log.Info($"crypt: {name}: the TPM unsealed its key in {unsealMs} ms, opened in {clock.ElapsedMilliseconds} ms in all");
        return $"tpm (sealed for release {token.Release}, key slot {token.KeySlot})";
    }

    /// <summary>Asks on the console, up to the volume's tries; "passphrase (key slot N)" once one opened it, null when none did.</summary>
    private static string? WithPassphrase(BootContext context, Cryptsetup cryptsetup, CryptConfig volume, string devicePath)
    {
        var name = volume.Name!;
        var terminal = Recovery.ConsoleChoice.Choose(ActiveConsoles.Read(), $"the passphrase for {name}", context.Log)?.TerminalPath ?? "/dev/console";
        for (int attempt = 1; attempt <= volume.Tries; attempt++)
        {
            var answer = ConsoleSecret.Ask(terminal, $"Passphrase for {name} ({devicePath}), or its recovery key (Control-D to give up): ");
            if (answer is null)
            {
                context.Log.Warn($"crypt: no passphrase given for {name}");
                return null;
            }
            var key = Encoding.UTF8.GetBytes(answer);
            try
            {
                var (outcome, message, slot) = cryptsetup.Open(devicePath, name, key);
                switch (outcome)
                {
                    case OpenOutcome.Opened:
                        return slot is not { } n ? "passphrase"
                            : RecoveryKey.Slots(cryptsetup.Metadata(devicePath)).Contains(n) ? $"recovery key (key slot {n})" : $"passphrase (key slot {n})";
                    case OpenOutcome.WrongKey:
                        context.Log.Warn($"crypt: wrong passphrase for {name} ({attempt} of {volume.Tries})");
                        break;
                    default:
                        throw new BootException($"crypt: {name} ({devicePath}): {message}{(cryptsetup.IsLuks2(devicePath) ? "" : "; it is not a LUKS2 volume")}");
                }
            }
            finally
            {
                Array.Clear(key);
            }
        }
        context.Log.Error($"crypt: wrong passphrase for {name} {volume.Tries} times");
        return null;
    }
}

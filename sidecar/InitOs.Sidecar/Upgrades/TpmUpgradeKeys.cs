using InitOs.Init.Config;
using InitOs.Init.Crypt;
using InitOs.Init.Tpm;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// Why a signed upgrade never locks the disk: before a new UKI becomes a boot entry, each
/// [[crypt]] volume that has TPM-sealed keys gets one more, sealed to PCR 7 as it is now and to
/// the PCR 11 the new UKI will leave (computed from its proven bytes); once the new release is
/// blessed, the keys of every other release are removed, so an older UKI (still kept for a
/// rollback by hand) no longer opens the disk by itself. A volume without TPM keys is left
/// alone: an admin opted in with `disk enroll-tpm`.
/// </summary>
public static class TpmUpgradeKeys
{
    /// <exception cref="BundleException">A key could not be sealed: the UKI must not become bootable (its first boot would ask for a passphrase).</exception>
    public static void SealFor(InitosConfig settings, string ukiPath, string release, Action<string> progress)
    {
        var volumes = Enrolled(settings);
        if (volumes.Count == 0)
        {
            return;
        }
        try
        {
            var pcr11 = UkiMeasurement.PredictPcr11(ukiPath);
            using var tpm = new Tpm2(TpmDevice.Open());
            var values = new Dictionary<int, byte[]>(tpm.PcrRead(TpmKeys.Pcrs)) { [11] = pcr11 };
            var policy = new PcrPolicy(TpmKeys.Pcrs, values);
            foreach (var (name, device, cryptsetup) in volumes)
            {
                var volumeKey = cryptsetup.VolumeKey(name);
                try
                {
                    var token = TpmKeys.Enrol(cryptsetup, device, tpm, policy, release, volumeKey, authorizingIsVolumeKey: true);
                    progress($"tpm: {name}'s key sealed for {release}: {token}");
                }
                finally
                {
                    Array.Clear(volumeKey);
                }
            }
        }
        catch (Exception e) when (e is TpmException or CryptsetupException or InvalidDataException or Sys.SysException or IOException)
        {
            throw new BundleException($"the disk keys could not be sealed to {release}'s PCR 11, so its first boot would ask for a passphrase; nothing was made bootable: {e.Message}");
        }
    }

    /// <summary>After <paramref name="release"/> is blessed: the other releases' TPM keys go. Failures are said, not thrown (the bless stands).</summary>
    public static void KeepOnly(InitosConfig settings, string release, Action<string> log)
    {
        foreach (var (name, device, cryptsetup) in Enrolled(settings))
        {
            try
            {
                if (!TpmToken.FromMetadata(cryptsetup.Metadata(device), _ => { }).Any(t => t.Release == release))
                {
                    log($"tpm: {name} has no key of {release}'s own; the older releases' keys stay (`initos admin disk enroll-tpm {name}`)");
                    continue;
                }
                foreach (var gone in TpmKeys.RemoveAllBut(cryptsetup, device, release))
                {
                    log($"tpm: {name}: removed the key of release {gone.Release} (token {gone.Id}, key slot {gone.KeySlot}); {release} is blessed");
                }
            }
            catch (Exception e) when (e is CryptsetupException or IOException)
            {
                log($"tpm: {name}: the older releases' keys could not be removed: {e.Message}");
            }
        }
    }

    /// <summary>The volumes this boot opened whose headers hold TPM keys.</summary>
    private static List<(string Name, string Device, Cryptsetup Cryptsetup)> Enrolled(InitosConfig settings)
    {
        var opened = CryptStatus.Read();
        var volumes = new List<(string, string, Cryptsetup)>();
        foreach (var volume in settings.Crypt.Where(c => c.Keys.Contains(CryptKeySource.Tpm2)))
        {
            if (opened.FirstOrDefault(o => o.Name == volume.Name) is { Name: not null } open)
            {
                var cryptsetup = Cryptsetup.Direct();
                if (TpmToken.FromMetadata(cryptsetup.Metadata(open.Device), _ => { }).Count > 0)
                {
                    volumes.Add((open.Name, open.Device, cryptsetup));
                }
            }
        }
        return volumes;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using InitOs.Init.Config;
using InitOs.Init.Supervision;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// `initos admin upgrade …` (the admin role): apply a signed bundle from stdin, show the slots,
/// bless a trial by hand, roll back. Every change goes through the numbered durable steps and
/// is logged to the kernel log as well.
/// </summary>
public static class UpgradeCommand
{
    public const string Usage = """
          upgrade status [--json]       (admin) the boot slots on the ESP: version, good/trial/bad, tries left
          upgrade apply [--reboot]      (admin) a signed bundle on stdin (ssh HOST upgrade apply < bundle.tar): verified, then staged to boot next
                                          (--from REGISTRY/REPO:TAG|@sha256:…, or --from TAG with [upgrade] registry: fetched from an OCI registry)
                                          (--hold-at K [--torn]: stop for good before durable step K, for power-cut tests)
          upgrade bless                 (admin) bless the running trial version (for [upgrade] policy = "manual")
          upgrade rollback              (admin) mark the running version bad and reboot into the previous good one
        """;

    public static int Run(string[] words, string configPath = InitosConfig.DefaultPath)
    {
        var settings = ConfigLoader.Load(configPath);
        var config = settings.Upgrade;
        return words switch
        {
            ["status"] => Status(settings, json: false),
            ["status", "--json"] => Status(settings, json: true),
            ["apply", .. var options] => Apply(settings, ApplyOptions.Parse(options)),
            ["bless"] => BlessAll(settings) is var blessed && blessed == 0 ? KeepOnlyRunning(settings) : blessed,
            ["rollback"] => Rollback(config),
            _ => Refuse($"upgrade {string.Join(' ', words)}: expected status [--json], apply [--from REF] [--reboot] [--hold-at K [--torn]], bless or rollback"),
        };
    }

    /// <summary>The UKI slots on the ESP (when the machine booted through systemd-boot) and the jailed OS's staged images (when it runs one).</summary>
    private static int Status(InitosConfig settings, bool json)
    {
        var config = settings.Upgrade;
        var slots = Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory)) || settings.Os.Image is null ? EspSlots.ForThisMachine(config) : null;
        var list = slots?.List() ?? [];
        var images = settings.Os.Image is { } name ? OsImageStore.OnDataVolume(name) : null;
        if (json)
        {
            Console.WriteLine(StatusJson(slots, list, config, images));
            return 0;
        }
        if (slots is not null)
        {
            var running = list.FirstOrDefault(s => s.Running);
            Console.WriteLine($"running {slots.RunningVersion}{(running is null ? " (no entry on the ESP)" : $" ({running.StateName})")}, policy {config.Policy.ToString().ToLowerInvariant()}, {config.Tries} tries per new version, {config.KeepPrevious} previous kept");
            Console.WriteLine($"{"entry",-28} {"version",-10} {"state",-6} {"tries left",10} {"bytes",10}");
            foreach (var slot in list)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{slot.Entry.FileName,-28} {slot.Entry.Version,-10} {slot.StateName,-6} {slot.Entry.TriesLeft?.ToString(CultureInfo.InvariantCulture) ?? "-",10} {slot.Bytes,10}{(slot.Running ? "  (running)" : "")}"));
            }
        }
        if (images is not null)
        {
            var pointer = images.ReadPointer();
            Console.WriteLine($"jailed OS: runs {OsImageStore.Running() ?? "nothing yet"}; good {images.GoodLabel(pointer)}{(pointer?.Trial is { } trial ? $", trial {images.Name}@{trial} ({pointer.TriesLeft} starts left{(pointer.TrialUki is { } uki ? $", with UKI {uki}" : "")})" : "")}");
            foreach (var image in ImageRows(images, pointer))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{image.Label,-28} {image.Version,-10} {image.State,-6} {"",10} {image.Bytes,10}{(image.Running ? "  (running)" : "")}"));
            }
        }
        return 0;
    }

    private sealed record ImageRow(string Label, string Version, string State, long Bytes, bool Running);

    private static List<ImageRow> ImageRows(OsImageStore images, ImagePointer? pointer) =>
        images.Versions().Reverse().Select(v => new ImageRow($"{images.Name}@{v}", v,
            v == pointer?.Good ? "good" : v == pointer?.Trial ? "trial" : "kept",
            new FileInfo(images.ImagePath(v)).Length, OsImageStore.Running() == $"{images.Name}@{v}")).ToList();

    private static string StatusJson(EspSlots? slots, IReadOnlyList<Slot> list, UpgradeConfig config, OsImageStore? images)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("running", slots?.RunningVersion ?? config.Version);
            json.WriteString("policy", config.Policy.ToString().ToLowerInvariant());
            json.WriteString("booted_entry", EfiVariables.LoaderEntrySelected());
            json.WriteStartArray("slots");
            foreach (var slot in list)
            {
                json.WriteStartObject();
                json.WriteString("entry", slot.Entry.FileName);
                json.WriteString("version", slot.Entry.Version);
                json.WriteString("state", slot.StateName);
                if (slot.Entry.TriesLeft is { } left)
                {
                    json.WriteNumber("tries_left", left);
                }
                json.WriteNumber("bytes", slot.Bytes);
                json.WriteBoolean("running", slot.Running);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (images is not null)
            {
                var pointer = images.ReadPointer();
                json.WriteStartObject("os_images");
                json.WriteString("running", OsImageStore.Running());
                json.WriteString("good", images.GoodLabel(pointer));
                json.WriteString("trial", pointer?.Trial is { } trial ? $"{images.Name}@{trial}" : null);
                json.WriteNumber("trial_starts_left", pointer?.TriesLeft ?? 0);
                json.WriteString("trial_with_uki", pointer?.TrialUki);
                json.WriteStartArray("images");
                foreach (var image in ImageRows(images, pointer))
                {
                    json.WriteStartObject();
                    json.WriteString("image", image.Label);
                    json.WriteString("version", image.Version);
                    json.WriteString("state", image.State);
                    json.WriteNumber("bytes", image.Bytes);
                    json.WriteBoolean("running", image.Running);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>apply's words: --reboot; --hold-at K [--torn] (power-cut tests: hold before durable step K).</summary>
    private sealed record ApplyOptions(bool Reboot, StepHold? Hold, string? From)
    {
        public static ApplyOptions Parse(string[] words)
        {
            bool reboot = false, torn = false;
            int? hold = null;
            string? from = null;
            for (int i = 0; i < words.Length; i++)
            {
                switch (words[i])
                {
                    case "--reboot":
                        reboot = true;
                        break;
                    case "--torn":
                        torn = true;
                        break;
                    case "--from" when i + 1 < words.Length:
                        from = words[++i];
                        break;
                    case "--hold-at" when i + 1 < words.Length && int.TryParse(words[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step > 0:
                        hold = step;
                        i++;
                        break;
                    default:
                        throw new ArgumentException($"upgrade apply: '{words[i]}' is not an option (--from REF, --reboot, --hold-at K, --torn)");
                }
            }
            if (torn && hold is null)
            {
                throw new ArgumentException("upgrade apply: --torn goes with --hold-at K");
            }
            return new ApplyOptions(reboot, hold is { } k ? new StepHold(k, torn) : null, from);
        }
    }

    private static int Apply(InitosConfig settings, ApplyOptions options)
    {
        var clock = Stopwatch.StartNew();
        var steps = new DurableSteps(KernelLogLine.Write, options.Hold);
        var sink = new ApplySink(settings, steps, Say);
        VerifiedBundle bundle;
        Registry.RegistryClient? client = null;
        try
        {
            var config = settings.Upgrade;
            IBundleSource source;
            if (options.From is { } from)
            {
                var reference = RegistrySource.Reference(config, from);
                client = RegistrySource.Client(config, reference);
                Say($"fetching {reference}");
                KernelLogLine.Write($"upgrade: fetching {reference}");
                source = new Registry.RegistryBundleSource(client, reference, new Registry.BlobCache(RegistrySource.CacheDirectory()), config.Keys);
            }
            else
            {
                source = new TarBundleSource(Console.OpenStandardInput());
                KernelLogLine.Write("upgrade: reading a bundle from the admin session");
            }
            bundle = BundleReader.Read(source, new TrustPolicy(config.Keys, config.Compatible, config.MinVersion), sink, Say);
            if (client is not null)
            {
                Say($"{client.BytesFetched} bytes fetched from the registry");
            }
        }
        catch (Exception e) when (e is BundleException or Registry.RegistryException)
        {
            KernelLogLine.Write($"upgrade: a bundle was refused: {e.Message}");
            return Refuse($"refused: {e.Message}; nothing of it was kept");
        }
        finally
        {
            client?.Dispose();
        }
        string with = "";
        switch (sink)
        {
            case { Jailed: { } jailed, Boot: null }:
                return JailedUpgrade.Run(settings, OsImageStore.OnDataVolume(settings.Os.Image!), jailed, bundle, steps, clock, Say);
            case { Jailed: { } images, Boot: { } boot }:
                // The image first, inert under any other UKI; only then the UKI becomes bootable.
                var image = JailedUpgrade.Stage(settings, OsImageStore.OnDataVolume(settings.Os.Image!), images, bundle, steps, uki: bundle.Description.Version);
                boot.Activate();
                with = $" with the OS image {settings.Os.Image}@{image} (one verdict for both)";
                break;
        }
        var staged = sink.Boot?.Staged ?? throw new InvalidOperationException("the bundle was read and nothing was staged");
        var line = string.Create(CultureInfo.InvariantCulture,
            $"upgrade: {bundle.Description.Version} staged as {EspSlots.EntriesDirectory}/{staged.FileName} ({staged.TriesLeft} tries){with}, signed by {PublicKeys.Fingerprint(bundle.Key)}, in {clock.Elapsed.TotalSeconds:F1} s, {steps.Count} durable steps, {steps.BytesWritten} bytes written");
        KernelLogLine.Write(line);
        Say(line);
        if (!options.Reboot)
        {
            Say("it boots next: `reboot` to try it now");
            return 0;
        }
        return Admin.SystemdShutdown.Run(ShutdownKind.Reboot);
    }

    /// <summary>
    /// What is on trial, blessed by hand (policy manual): the UKI of a trial boot, then the
    /// jailed OS's image on trial (the pair a bundle carried, in the judge's order); one of them
    /// alone when only it is on trial.
    /// </summary>
    private static int BlessAll(InitosConfig settings)
    {
        bool ukiTrial = Directory.Exists(Path.Combine(EspSlots.MountPoint, EspSlots.EntriesDirectory))
            && settings.Upgrade.Enabled && EspSlots.ForThisMachine(settings.Upgrade).Running is { Entry.TriesLeft: not null };
        if (ukiTrial && Bless(settings.Upgrade) is var uki && uki != 0)
        {
            return uki;
        }
        return BlessImage(settings) ?? (ukiTrial ? 0 : Bless(settings.Upgrade));
    }

    /// <summary>A jailed OS's image on trial and running, blessed by hand (policy manual); null when there is none.</summary>
    private static int? BlessImage(InitosConfig settings)
    {
        if (settings.Os.Image is not { } name || OsImageStore.OnDataVolume(name) is not { } store || store.ReadPointer() is not { Trial: { } trial })
        {
            return null;
        }
        if (OsImageStore.Running() != $"{name}@{trial}")
        {
            return Refuse($"{name}@{trial} is on trial but the jail runs {OsImageStore.Running() ?? "nothing"}; its verdict is the judge's");
        }
        var floor = JailedUpgrade.Bless(settings, store, trial, new DurableSteps(KernelLogLine.Write));
        KernelLogLine.Write($"upgrade: {name}@{trial} blessed by an admin");
        Say($"blessed {name}@{trial}{(floor is null ? "" : $", anti-rollback floor {floor}")}");
        return 0;
    }

    /// <summary>After an admin's bless: the TPM keys of other releases go, as after the judge's.</summary>
    private static int KeepOnlyRunning(InitosConfig settings)
    {
        if (settings.Upgrade.Version is { } running)
        {
            TpmUpgradeKeys.KeepOnly(settings, running, line =>
            {
                KernelLogLine.Write($"upgrade: {line}");
                Say(line);
            });
        }
        return 0;
    }

    private static int Bless(UpgradeConfig config)
    {
        var slots = EspSlots.ForThisMachine(config);
        if (slots.Running is not { Entry.TriesLeft: not null } trial)
        {
            return Refuse($"the running {slots.RunningVersion} is not on trial; nothing to bless");
        }
        var blessed = SlotActions.Bless(slots, trial, config.KeepPrevious, new DurableSteps(KernelLogLine.Write), config.MinVersion);
        KernelLogLine.Write($"upgrade: {blessed.Version} blessed by an admin ({blessed.FileName})");
        Say($"blessed {blessed.Version}: {EspSlots.EntriesDirectory}/{blessed.FileName}");
        return 0;
    }

    private static int Rollback(UpgradeConfig config)
    {
        var slots = EspSlots.ForThisMachine(config);
        var running = slots.Running ?? throw new InvalidOperationException($"the running {slots.RunningVersion} has no entry on the ESP");
        var previous = slots.List().FirstOrDefault(s => !s.Running && s.Entry.State == EntryState.Good);
        if (previous is null)
        {
            return Refuse($"no other good version on the ESP to go back to (`upgrade status`); {running.Entry.Version} stays");
        }
        var bad = SlotActions.MarkBad(slots, running, new DurableSteps(KernelLogLine.Write));
        KernelLogLine.Write($"upgrade: rollback by an admin: {running.Entry.Version} marked bad ({bad.FileName}); {previous.Entry.Version} boots next");
        Say($"{running.Entry.Version} marked bad; rebooting into {previous.Entry.Version}");
        return Admin.SystemdShutdown.Run(ShutdownKind.Reboot);
    }

    /// <summary>Progress for the admin; a session that went away does not stop an upgrade half-way (the kernel log has every line).</summary>
    private static void Say(string line)
    {
        try
        {
            Console.WriteLine(line);
            Console.Out.Flush();
        }
        catch (IOException)
        {
        }
    }

    private static int Refuse(string message)
    {
        Console.Error.WriteLine($"initos admin: upgrade: {message}");
        return 1;
    }
}

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
                                          (--hold-at K [--torn]: stop for good before durable step K, for power-cut tests)
          upgrade bless                 (admin) bless the running trial version (for [upgrade] policy = "manual")
          upgrade rollback              (admin) mark the running version bad and reboot into the previous good one
        """;

    public static int Run(string[] words, string configPath = InitosConfig.DefaultPath)
    {
        var config = ConfigLoader.Load(configPath).Upgrade;
        return words switch
        {
            ["status"] => Status(config, json: false),
            ["status", "--json"] => Status(config, json: true),
            ["apply", .. var options] => Apply(config, ApplyOptions.Parse(options)),
            ["bless"] => Bless(config),
            ["rollback"] => Rollback(config),
            _ => Refuse($"upgrade {string.Join(' ', words)}: expected status [--json], apply [--reboot] [--hold-at K [--torn]], bless or rollback"),
        };
    }

    private static int Status(UpgradeConfig config, bool json)
    {
        var slots = EspSlots.ForThisMachine(config);
        var list = slots.List();
        if (json)
        {
            Console.WriteLine(StatusJson(slots, list, config));
            return 0;
        }
        var running = list.FirstOrDefault(s => s.Running);
        Console.WriteLine($"running {slots.RunningVersion}{(running is null ? " (no entry on the ESP)" : $" ({running.StateName})")}, policy {config.Policy.ToString().ToLowerInvariant()}, {config.Tries} tries per new version, {config.KeepPrevious} previous kept");
        Console.WriteLine($"{"entry",-28} {"version",-10} {"state",-6} {"tries left",10} {"bytes",10}");
        foreach (var slot in list)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{slot.Entry.FileName,-28} {slot.Entry.Version,-10} {slot.StateName,-6} {slot.Entry.TriesLeft?.ToString(CultureInfo.InvariantCulture) ?? "-",10} {slot.Bytes,10}{(slot.Running ? "  (running)" : "")}"));
        }
        return 0;
    }

    private static string StatusJson(EspSlots slots, IReadOnlyList<Slot> list, UpgradeConfig config)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("running", slots.RunningVersion);
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
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>apply's words: --reboot; --hold-at K [--torn] (power-cut tests: hold before durable step K).</summary>
    private sealed record ApplyOptions(bool Reboot, StepHold? Hold)
    {
        public static ApplyOptions Parse(string[] words)
        {
            bool reboot = false, torn = false;
            int? hold = null;
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
                    case "--hold-at" when i + 1 < words.Length && int.TryParse(words[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step > 0:
                        hold = step;
                        i++;
                        break;
                    default:
                        throw new ArgumentException($"upgrade apply: '{words[i]}' is not an option (--reboot, --hold-at K, --torn)");
                }
            }
            if (torn && hold is null)
            {
                throw new ArgumentException("upgrade apply: --torn goes with --hold-at K");
            }
            return new ApplyOptions(reboot, hold is { } k ? new StepHold(k, torn) : null);
        }
    }

    private static int Apply(UpgradeConfig config, ApplyOptions options)
    {
        var slots = EspSlots.ForThisMachine(config);
        if (EfiVariables.LoaderEntrySelected() is null)
        {
            return Refuse("this machine did not boot through systemd-boot (no LoaderEntrySelected): a staged UKI would never be booted");
        }
        if (slots.Running is { Entry.TriesLeft: not null } trial)
        {
            return Refuse($"the running {trial.Entry.Version} is on trial ({trial.Entry.FileName}); its verdict comes first (`upgrade status`, `upgrade bless`, `upgrade rollback`)");
        }
        var clock = Stopwatch.StartNew();
        var steps = new DurableSteps(KernelLogLine.Write, options.Hold);
        var sink = new EspUkiSink(slots, steps, config.Tries, Say);
        VerifiedBundle bundle;
        try
        {
            var input = Console.OpenStandardInput();
            bundle = BundleReader.Read(new TarBundleSource(input), new TrustPolicy(config.Keys, config.Compatible, config.MinVersion), sink, Say);
        }
        catch (BundleException e)
        {
            KernelLogLine.Write($"upgrade: a bundle was refused: {e.Message}");
            return Refuse($"refused: {e.Message}; nothing of it was kept");
        }
        var staged = sink.Staged ?? throw new InvalidOperationException("the bundle was read and nothing was staged");
        var line = string.Create(CultureInfo.InvariantCulture,
            $"upgrade: {bundle.Description.Version} staged as {EspSlots.EntriesDirectory}/{staged.FileName} ({staged.TriesLeft} tries), signed by {PublicKeys.Fingerprint(bundle.Key)}, in {clock.Elapsed.TotalSeconds:F1} s, {steps.Count} durable steps");
        KernelLogLine.Write(line);
        Say(line);
        if (!options.Reboot)
        {
            Say("it boots next: `reboot` to try it now");
            return 0;
        }
        return Admin.SystemdShutdown.Run(ShutdownKind.Reboot);
    }

    private static int Bless(UpgradeConfig config)
    {
        var slots = EspSlots.ForThisMachine(config);
        if (slots.Running is not { Entry.TriesLeft: not null } trial)
        {
            return Refuse($"the running {slots.RunningVersion} is not on trial; nothing to bless");
        }
        var blessed = SlotActions.Bless(slots, trial, config.KeepPrevious, new DurableSteps(KernelLogLine.Write));
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

    private static void Say(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }

    private static int Refuse(string message)
    {
        Console.Error.WriteLine($"initos admin: upgrade: {message}");
        return 1;
    }
}

using System.Text;
using InitOs.Sys;

namespace InitOs.Init.Crypt;

/// <summary>How an attempt to open a LUKS2 volume ended.</summary>
public enum OpenOutcome
{
    Opened,
    /// <summary>No key slot takes this key (cryptsetup's exit 2).</summary>
    WrongKey,
    /// <summary>Anything else: the message says what.</summary>
    Failed,
}

/// <summary>
/// Debian's cryptsetup, packed into the initramfs when the config has [[crypt]] volumes: it
/// parses the LUKS2 header, runs the key slot's KDF (argon2id or PBKDF2), checks the digest and
/// loads the dm-crypt table. InitOS gives it the key in a file under /run (tmpfs, mode 0600,
/// overwritten and removed after the attempt) and reads its exit code; its messages go to a log
/// beside it. No udev runs, so libdevmapper makes the /dev/mapper node itself (DM_DISABLE_UDEV).
/// Children are started and waited for by <c>run</c>: PID 1's reaper in the boot, a plain
/// waitpid in the sidecar and on a workstation.
/// </summary>
public sealed class Cryptsetup(Func<Func<int>, ChildExit> run, string binary = Cryptsetup.Binary, string stateDirectory = "/run/initos/crypt")
{
    public const string Binary = "/sbin/cryptsetup";

    /// <summary>PID 1's: its reaper collects every child, so it waits through it.</summary>
    public Cryptsetup(Supervision.Reaper reaper)
        : this(reaper.Run)
    {
    }

    /// <summary>For a process that is not PID 1 (the sidecar, a workstation): it waits for its own child.</summary>
    public static Cryptsetup Direct(string binary = Binary, string stateDirectory = "/run/initos/crypt") =>
        new(start => Processes.Wait(start()) ?? throw new InvalidOperationException("the child vanished"), binary, stateDirectory);

    public string StateDirectory => stateDirectory;

    private static readonly string[] Environment = ["PATH=/sbin:/bin", "DM_DISABLE_UDEV=1", "LC_ALL=C"];

    /// <summary>
    /// Opens <paramref name="device"/> as /dev/mapper/<paramref name="name"/> with <paramref name="key"/>:
    /// the outcome, cryptsetup's last message, and which key slot took the key (opened, and said).
    /// </summary>
    /// <remarks>
    /// The volume key stays in the dm-crypt table rather than the kernel keyring
    /// (--disable-keyring) so that the sidecar can add a key slot for the next UKI from it
    /// (<see cref="VolumeKey"/>) without anyone typing a passphrase; root can read either.
    /// </remarks>
    public (OpenOutcome Outcome, string Message, int? KeySlot) Open(string device, string name, ReadOnlySpan<byte> key, int? keySlot = null)
    {
        var log = LogFile(name);
        string[] slot = keySlot is { } n ? ["--key-slot", Number(n)] : [];
        var exit = WithKeyFile(name + ".key", key, keyFile =>
            Run([binary, "open", "--verbose", "--type", "luks2", "--disable-keyring", "--key-file", keyFile, .. slot, "--tries", "1", device, name], log));
        var lines = Lines(log);
        var message = lines.LastOrDefault() ?? "";
        return exit switch
        {
            { Exited: true, ExitCode: 0 } => (OpenOutcome.Opened, message, KeySlot(lines)),
            { Exited: true, ExitCode: 2 } => (OpenOutcome.WrongKey, message, null),
            _ => (OpenOutcome.Failed, $"cryptsetup {exit}{(message.Length == 0 ? "" : $": {message}")}", null),
        };
    }

    /// <summary>cryptsetup --verbose says "Key slot N unlocked."</summary>
    private static int? KeySlot(IEnumerable<string> lines) =>
        lines.Select(l => l.Split(' ')).FirstOrDefault(w => w is ["Key", "slot", _, "unlocked."]) is { } words
            && int.TryParse(words[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int slot) ? slot : null;

    /// <summary>Whether the volume is a LUKS2 one (cryptsetup isLuks --type luks2), for an error that says so.</summary>
    public bool IsLuks2(string device) => Run([binary, "isLuks", "--type", "luks2", device], "/dev/null") is { Exited: true, ExitCode: 0 };

    /// <summary>The LUKS2 header's JSON metadata: key slots, tokens, segments (luksDump --dump-json-metadata).</summary>
    public string Metadata(string device)
    {
        var output = LogFile("metadata");
        var exit = Run([binary, "luksDump", "--dump-json-metadata", device], output);
        var text = File.ReadAllText(output);
        File.Delete(output);
        return exit is { Exited: true, ExitCode: 0 } ? text : throw new CryptsetupException($"cryptsetup luksDump {device}: {exit}: {LastLine(text)}");
    }

    /// <summary>
    /// Adds <paramref name="newKey"/> in key slot <paramref name="slot"/>, authorized by the volume
    /// key (from an open mapping) or an existing passphrase. A random key of 32 bytes needs no
    /// slow KDF: PBKDF2 with 1000 iterations, as for a TPM's or a recovery key's slot.
    /// </summary>
    public void AddKey(string device, int slot, ReadOnlySpan<byte> newKey, ReadOnlySpan<byte> authorizing, bool authorizingIsVolumeKey, bool slowKdf = false)
    {
        string[] kdf = slowKdf ? [] : ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"];
        var log = LogFile("add-key");
        var newKeyCopy = newKey.ToArray();
        try
        {
            var exit = WithKeyFile("authorizing.key", authorizing, authorizingFile => WithKeyFile("new.key", newKeyCopy, newKeyFile =>
                Run([binary, "luksAddKey", "-q", .. kdf, authorizingIsVolumeKey ? "--volume-key-file" : "--key-file", authorizingFile, "--new-key-slot", Number(slot), device, newKeyFile], log)));
            Check(exit, $"luksAddKey {device} (key slot {slot})", log);
        }
        finally
        {
            Array.Clear(newKeyCopy);
        }
    }

    /// <summary>Writes a token (its JSON names its key slots) as token <paramref name="tokenId"/>, replacing what was there.</summary>
    public void ImportToken(string device, int tokenId, string json)
    {
        var file = Path.Combine(Prepare(), "token.json");
        File.WriteAllText(file, json);
        var log = LogFile("token");
        var exit = Run([binary, "token", "import", "--token-replace", "--token-id", Number(tokenId), "--json-file", file, device], log);
        File.Delete(file);
        Check(exit, $"token import {device} (token {tokenId})", log);
    }

    /// <summary>Removes a token and wipes its key slot: the key it held opens nothing any more.</summary>
    public void RemoveTokenAndSlot(string device, int tokenId, int slot)
    {
        var log = LogFile("token");
        Check(Run([binary, "token", "remove", "--token-id", Number(tokenId), device], log), $"token remove {device} (token {tokenId})", log);
        Check(Run([binary, "luksKillSlot", "-q", device, Number(slot)], log), $"luksKillSlot {device} {slot}", log);
    }

    public const string DmSetup = "/sbin/dmsetup";

    /// <summary>
    /// The volume key of the open mapping <paramref name="name"/>, from its dm-crypt table
    /// (dmsetup table --showkeys): "0 SECTORS crypt CIPHER HEXKEY IV_OFFSET DEVICE OFFSET".
    /// </summary>
    public byte[] VolumeKey(string name)
    {
        var output = LogFile("table");    // in a directory only root may enter: it will hold the key for a moment
        var exit = run(() => Processes.Spawn(DmSetup, [DmSetup, "table", "--showkeys", name], Environment, output));
        var words = File.ReadAllText(output).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Shred(output, 4096);
        if (exit is not { Exited: true, ExitCode: 0 } || words is not [_, _, "crypt", _, var hex, ..])
        {
            throw new CryptsetupException($"dmsetup table {name}: {exit}: not an open dm-crypt mapping");
        }
        if (hex.StartsWith(':'))
        {
            throw new CryptsetupException($"{name}'s volume key is in the kernel keyring, not its table: it was opened without --disable-keyring (not by InitOS)");
        }
        return Convert.FromHexString(hex);
    }

    private ChildExit Run(string[] argv, string output) => run(() => Processes.Spawn(binary, argv, Environment, output));

    private ChildExit WithKeyFile(string fileName, ReadOnlySpan<byte> key, Func<string, ChildExit> use)
    {
        var keyFile = Path.Combine(Prepare(), fileName);
        WriteKey(keyFile, key);
        try
        {
            return use(keyFile);
        }
        finally
        {
            Shred(keyFile, key.Length);
        }
    }

    private string Prepare()
    {
        Directory.CreateDirectory(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return stateDirectory;
    }

    /// <summary>An empty file for a child's stdio (the spawn opens it, it does not create it).</summary>
    private string LogFile(string name)
    {
        var log = Path.Combine(Prepare(), name + ".log");
        File.WriteAllBytes(log, []);
        return log;
    }

    private static void Check(ChildExit exit, string what, string log)
    {
        if (exit is not { Exited: true, ExitCode: 0 })
        {
            throw new CryptsetupException($"cryptsetup {what}: {exit}: {LastLine(File.ReadAllText(log))}");
        }
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    private static string Number(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void WriteKey(string path, ReadOnlySpan<byte> key)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var file = new FileStream(path, options);
        file.Write(key);
    }

    /// <summary>The key file overwritten with zeros, then removed: it lived in RAM only, and now not there either.</summary>
    private static void Shred(string path, int length)
    {
        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                file.Write(new byte[length]);
            }
            File.Delete(path);
        }
        catch (IOException)
        {
            File.Delete(path);
        }
    }

    private static List<string> Lines(string log)
    {
        try
        {
            return File.ReadAllLines(log, Encoding.UTF8).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }
}

/// <summary>A cryptsetup command other than an open failed; the message has its last line.</summary>
public sealed class CryptsetupException(string message) : Exception(message);

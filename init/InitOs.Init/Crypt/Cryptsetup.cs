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
/// </summary>
public sealed class Cryptsetup(Supervision.Reaper reaper, string binary = Cryptsetup.Binary, string stateDirectory = "/run/initos/crypt")
{
    public const string Binary = "/sbin/cryptsetup";

    private static readonly string[] Environment = ["PATH=/sbin:/bin", "DM_DISABLE_UDEV=1", "LC_ALL=C"];

    /// <summary>
    /// Opens <paramref name="device"/> as /dev/mapper/<paramref name="name"/> with <paramref name="key"/>:
    /// the outcome, cryptsetup's last message, and which key slot took the key (opened, and said).
    /// </summary>
    public (OpenOutcome Outcome, string Message, int? KeySlot) Open(string device, string name, ReadOnlySpan<byte> key)
    {
        Directory.CreateDirectory(stateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var keyFile = Path.Combine(stateDirectory, name + ".key");
        var log = Path.Combine(stateDirectory, name + ".log");
        File.WriteAllBytes(log, []);
        WriteKey(keyFile, key);
        ChildExit exit;
        try
        {
            exit = reaper.Run(() => Processes.Spawn(binary, [binary, "open", "--verbose", "--type", "luks2", "--key-file", keyFile, "--tries", "1", device, name], Environment, log));
        }
        finally
        {
            Shred(keyFile, key.Length);
        }
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
    public bool IsLuks2(string device) =>
        reaper.Run(() => Processes.Spawn(binary, [binary, "isLuks", "--type", "luks2", device], Environment, "/dev/null")) is { Exited: true, ExitCode: 0 };

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

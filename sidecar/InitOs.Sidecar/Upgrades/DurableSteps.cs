using System.Globalization;
using InitOs.Sys;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// The one way an upgrade changes a disk: every durable step (a chunk written, an fsync, a
/// rename, a removal, a directory fsync) goes through here, numbered in order and logged, so a
/// test can cut the power at step K of any upgrade and know which step that was.
/// `initos.upgrade_cut=K` on the kernel command line holds the upgrade just before step K
/// (`initos.upgrade_cut=K:torn`: a write step writes half its bytes first), for the harness to
/// pull the plug there; it can only stop an upgrade, which whoever edits the command line can
/// do anyway.
/// </summary>
public sealed class DurableSteps
{
    private readonly Action<string> _log;
    private readonly (int Step, bool Torn)? _cut;
    private int _step;

    public DurableSteps(Action<string> log, string? cut = null)
    {
        _log = log;
        _cut = ParseCut(cut ?? CutFromCommandLine());
    }

    /// <summary>How many steps have run.</summary>
    public int Count => _step;

    /// <summary>A new file (never an existing one followed through a link), to be filled with <see cref="Write"/>.</summary>
    public FileStream Create(string path)
    {
        Step($"create {path}");
        return new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
    }

    public void Write(FileStream file, ReadOnlySpan<byte> bytes)
    {
        if (Step($"write {bytes.Length} bytes at {file.Position} of {file.Name}", torn: true))
        {
            file.Write(bytes[..(bytes.Length / 2)]);
            file.Flush(flushToDisk: true);
            Hold();
        }
        file.Write(bytes);
    }

    public void Sync(FileStream file)
    {
        Step($"fsync {file.Name}");
        file.Flush(flushToDisk: true);
    }

    public void Rename(string from, string to)
    {
        Step($"rename {from} → {to}");
        File.Move(from, to, overwrite: false);
    }

    public void Delete(string path)
    {
        Step($"remove {path}");
        File.Delete(path);
    }

    public void SyncDirectory(string directory)
    {
        Step($"fsync directory {directory}");
        AtomicFile.SyncDirectory(directory);
    }

    /// <summary>Logs the step; at the cut point holds for ever, or, for a torn write, returns true so the caller writes half first.</summary>
    private bool Step(string what, bool torn = false)
    {
        _step++;
        _log(string.Create(CultureInfo.InvariantCulture, $"upgrade: step {_step}: {what}"));
        if (_cut is { } cut && cut.Step == _step)
        {
            if (cut.Torn && torn)
            {
                return true;
            }
            Hold();
        }
        return false;
    }

    private void Hold()
    {
        _log(string.Create(CultureInfo.InvariantCulture, $"upgrade: holding at step {_step} (initos.upgrade_cut): cut the power now"));
        Thread.Sleep(Timeout.Infinite);
    }

    private static string? CutFromCommandLine()
    {
        try
        {
            return File.ReadAllText("/proc/cmdline").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(w => w.StartsWith("initos.upgrade_cut=", StringComparison.Ordinal))?["initos.upgrade_cut=".Length..];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static (int, bool)? ParseCut(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var parts = text.Split(':');
        return int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step > 0 && parts.Length <= 2 && (parts.Length == 1 || parts[1] == "torn")
            ? (step, parts.Length == 2)
            : throw new FormatException($"initos.upgrade_cut={text}: expected a step number K or K:torn");
    }
}

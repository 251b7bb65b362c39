using System.Globalization;
using InitOs.Sys;

namespace InitOs.Sidecar.Upgrades;

/// <summary>Where to hold an upgrade for a power-cut test: before durable step <paramref name="Step"/>; torn: a write step writes half its bytes (synced) first.</summary>
public sealed record StepHold(int Step, bool Torn);

/// <summary>
/// The one way an upgrade changes a disk: every durable step (a chunk written, an fsync, a
/// rename, a removal, a directory fsync) goes through here, numbered in order and logged, so a
/// test can cut the power at step K of any upgrade and know which step that was. With a
/// <see cref="StepHold"/> (`upgrade apply --hold-at K [--torn]`, an admin's command) the upgrade
/// stops for good just before step K, for the harness to pull the plug there.
/// </summary>
public sealed class DurableSteps(Action<string> log, StepHold? hold = null)
{
    private readonly Action<string> _log = log;
    private int _step;

    /// <summary>How many steps have run.</summary>
    public int Count => _step;

    /// <summary>How many bytes the write steps wrote (what an upgrade costs the medium, beyond the filesystems' own metadata).</summary>
    public long BytesWritten { get; private set; }

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

    /// <summary>A partial file begun afresh: one left by an upgrade the power cut short is removed first (nothing points at a partial file).</summary>
    public FileStream CreateFresh(string path)
    {
        if (File.Exists(path))
        {
            Delete(path);
        }
        return Create(path);
    }

    /// <summary>A written file made durable and closed: its fsync, as a step.</summary>
    public void SyncAndClose(FileStream file)
    {
        Sync(file);
        file.Dispose();
    }

    public void Write(FileStream file, ReadOnlySpan<byte> bytes)
    {
        if (Step($"write {bytes.Length} bytes at {file.Position} of {file.Name}", torn: true))
        {
            file.Write(bytes[..(bytes.Length / 2)]);
            file.Flush(flushToDisk: true);
            Hold(torn: true);
        }
        file.Write(bytes);
        BytesWritten += bytes.Length;
    }

    public void Sync(FileStream file)
    {
        Step($"fsync {file.Name}");
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// A rename, then an fsync of the file under its new name. On vfat (the ESP) the new directory
    /// entry starts with no clusters and size 0, and only the renamed inode's write-back fills
    /// them in: a directory fsync alone leaves an empty file there after a power cut. Seen in
    /// UpgradePowerCutTests: a staged UKI systemd-boot skipped after the cut.
    /// </summary>
    public void Rename(string from, string to)
    {
        Step($"rename {from} → {to}");
        File.Move(from, to, overwrite: false);
        Step($"fsync {to}");
        AtomicFile.SyncFile(to);
    }

    /// <summary>A small file replaced whole: written beside as .NAME.partial, synced, renamed over, the directory synced.</summary>
    public void WriteFile(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(path)!;
        var partial = Path.Combine(directory, $".{Path.GetFileName(path)}.partial");
        using (var file = CreateFresh(partial))
        {
            Write(file, content);
            SyncAndClose(file);
        }
        Step($"rename {partial} → {path}");
        File.Move(partial, path, overwrite: true);
        SyncDirectory(directory);
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
        if (hold is { } cut && cut.Step == _step)
        {
            if (cut.Torn && torn)
            {
                return true;
            }
            Hold(torn: false);
        }
        return false;
    }

    private void Hold(bool torn)
    {
        var step = _step.ToString(CultureInfo.InvariantCulture);
        _log(torn
            ? $"upgrade: holding in step {step}, half of its bytes written and synced (--hold-at --torn): cut the power now"
            : $"upgrade: holding before step {step} (--hold-at): cut the power now");
        Thread.Sleep(Timeout.Infinite);
    }
}

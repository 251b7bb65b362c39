using InitOs.Sys;

namespace InitOs.Jails.Root;

/// <summary>
/// A file descriptor the root builder opened and must close: once, by <c>using</c>, through the
/// calls that opened it (so the recording double sees every close and can report a leak).
/// </summary>
public sealed class OwnedFd : IDisposable
{
    private readonly IRootCalls calls;
    private bool closed;

    public OwnedFd(IRootCalls calls, int number)
    {
        this.calls = calls;
        Number = number;
    }

    public int Number { get; }

    /// <summary>The path the kernel resolves this fd through: mount(2) onto the fd, never a re-walked path.</summary>
    public string ProcPath => FilesAt.ProcPath(Number);

    public FileStatus Status(string what) => calls.StatusOf(Number, what);

    public void Dispose()
    {
        if (!closed)
        {
            closed = true;
            calls.Close(Number);
        }
    }
}

/// <summary>Opening into an <see cref="OwnedFd"/>.</summary>
public static class RootCallsOpening
{
    /// <summary>openat(2) from <paramref name="dir"/> (null: the working directory); the error names <paramref name="what"/>.</summary>
    public static OwnedFd Open(this IRootCalls calls, OwnedFd? dir, string name, OpenFlags flags, string what, int mode = 0)
    {
        var error = calls.TryOpenAt(dir?.Number ?? IRootCalls.WorkingDirectory, name, flags, mode, out int fd);
        return error == Errno.None ? new OwnedFd(calls, fd) : throw new SysException($"open({what})", error);
    }

    /// <summary>An O_PATH fd of the process's root directory, for walks that must not follow links.</summary>
    public static OwnedFd OpenRoot(this IRootCalls calls) => calls.Open(null, "/", OpenFlags.PathOnly | OpenFlags.Directory, "/");
}

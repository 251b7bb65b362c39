using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>How a child ended, decoded from the waitpid status word.</summary>
public readonly record struct ChildExit(int Pid, int RawStatus)
{
    public bool Exited => (RawStatus & 0x7F) == 0;
    public int ExitCode => (RawStatus >> 8) & 0xFF;
    public bool Signaled => ((RawStatus & 0x7F) + 1) >> 1 > 0 && !Exited;
    public int Signal => RawStatus & 0x7F;

    public override string ToString() => Exited ? $"pid {Pid} exited {ExitCode}" : $"pid {Pid} killed by signal {Signal}";
}

/// <summary>Start, replace, wait for and signal processes, without System.Diagnostics.Process.</summary>
public static class Processes
{
    private const int WNoHang = 1;

    public static int CurrentPid => Libc.Getpid();

    /// <summary>
    /// posix_spawn with default signal dispositions and an empty mask; optionally a new session
    /// and stdin/stdout/stderr opened on <paramref name="stdioPath"/>.
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, string? stdioPath = null, bool newSession = false)
    {
        nint attr = Marshal.AllocHGlobal(Libc.SpawnAttrSize);
        nint actions = Marshal.AllocHGlobal(Libc.SpawnFileActionsSize);
        nint sigset = Marshal.AllocHGlobal(128);
        try
        {
            Check(Libc.PosixSpawnAttrInit(attr), "posix_spawnattr_init");
            Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            short flags = Libc.PosixSpawnSetSigMask | Libc.PosixSpawnSetSigDef;
            if (newSession)
            {
                flags |= Libc.PosixSpawnSetSid;
            }
            Check(Libc.PosixSpawnAttrSetFlags(attr, flags), "posix_spawnattr_setflags");
            Check(Libc.SigEmptySet(sigset), "sigemptyset");
            Check(Libc.PosixSpawnAttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");
            Check(Libc.SigFillSet(sigset), "sigfillset");
            Check(Libc.PosixSpawnAttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
            if (stdioPath is not null)
            {
                Check(Libc.PosixSpawnFileActionsAddOpen(actions, 0, stdioPath, (int)OpenFlags.ReadWrite, 0), "posix_spawn_file_actions_addopen");
                Check(Libc.PosixSpawnFileActionsAddDup2(actions, 0, 1), "posix_spawn_file_actions_adddup2");
                Check(Libc.PosixSpawnFileActionsAddDup2(actions, 0, 2), "posix_spawn_file_actions_adddup2");
            }
            using var nativeArgv = new NativeStringArray(argv);
            using var nativeEnv = new NativeStringArray(env);
            int rc = Libc.PosixSpawn(out int pid, path, actions, attr, nativeArgv.Pointer, nativeEnv.Pointer);
            return rc == 0 ? pid : throw new SysException($"posix_spawn({path})", (Errno)rc);
        }
        finally
        {
            _ = Libc.PosixSpawnFileActionsDestroy(actions);
            _ = Libc.PosixSpawnAttrDestroy(attr);
            Marshal.FreeHGlobal(sigset);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
        }
    }

    // posix_spawn* functions return the error number instead of setting errno.
    private static void Check(int rc, string function)
    {
        if (rc != 0)
        {
            throw new SysException(function, (Errno)rc);
        }
    }

    /// <summary>execve; returns only by throwing.</summary>
    public static void Exec(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        Libc.Execve(path, nativeArgv.Pointer, nativeEnv.Pointer);
        throw SysException.FromLastError($"execve({path})");
    }

    /// <summary>execvpe: <paramref name="file"/> looked up in PATH as the shell does; returns only by throwing.</summary>
    public static void ExecSearchingPath(string file, IReadOnlyList<string> argv, IReadOnlyList<string> env)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        Libc.Execvpe(file, nativeArgv.Pointer, nativeEnv.Pointer);
        throw SysException.FromLastError($"execvp({file})");
    }

    /// <summary>waitpid(-1 or pid); null when nothing is ready (with noHang) or there are no children.</summary>
    public static unsafe ChildExit? Wait(int pid = -1, bool noHang = false)
    {
        while (true)
        {
            int status;
            int rc = Libc.Waitpid(pid, &status, noHang ? WNoHang : 0);
            if (rc > 0)
            {
                return new ChildExit(rc, status);
            }
            if (rc == 0)
            {
                return null;
            }
            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR)
            {
                continue;
            }
            if (errno == Errno.ECHILD)
            {
                return null;
            }
            throw new SysException("waitpid", errno);
        }
    }

    public static bool Signal(int pid, int signal) => Libc.Kill(pid, signal) == 0;

    /// <summary>Alive and not a zombie: a child that ended stays a zombie until somebody reaps it.</summary>
    public static bool IsAlive(int pid) => ProcStat.Read(pid) is { Ended: false };

    /// <summary>True while this process has any child, exited or not (waitpid WNOHANG gives 0, not ECHILD).</summary>
    public static unsafe bool HasChildren()
    {
        int status;
        int rc = Libc.Waitpid(-1, &status, WNoHang | WNoWait);
        return rc >= 0;
    }

    private const int WNoWait = 0x01000000;

    /// <summary>
    /// fork+exec through the C helper: the child gets back the signal dispositions and mask this
    /// process started with, optionally a new session or process group, the terminal's foreground,
    /// stdio on <paramref name="stdioFd"/>, and a parent-death signal. An exec failure is reported
    /// in <see cref="SpawnResult.ExecError"/> (the child has then exited 126 or 127).
    /// </summary>
    public static SpawnResult SpawnExact(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, SpawnOptions options)
    {
        using var nativeArgv = new NativeStringArray(argv);
        using var nativeEnv = new NativeStringArray(env);
        int pid = Interop.Native.Spawn(path, nativeArgv.Pointer, nativeEnv.Pointer, options.SearchPath ? 1 : 0,
            (int)options.Flags, options.DeathSignal, options.StdioFd, out int execErrno);
        return pid > 0 ? new SpawnResult(pid, (Errno)execErrno) : throw new SysException($"fork({path})", (Errno)(-pid));
    }

    public static int ParentPid => Libc.Getppid();

    public static int ProcessGroup => Libc.Getpgrp();

    /// <summary>PR_SET_PDEATHSIG: this process gets <paramref name="signal"/> when its parent dies.</summary>
    public static void SetParentDeathSignal(int signal)
    {
        if (Libc.Prctl(1, (nuint)signal, 0, 0, 0) != 0)
        {
            throw SysException.FromLastError($"prctl(PR_SET_PDEATHSIG, {signal})");
        }
    }

    /// <summary>PR_GET_CHILD_SUBREAPER: the bit survives exec, so a launcher may have set it for us.</summary>
    public static unsafe bool IsSubreaper
    {
        get
        {
            int bit = 0;
            return Libc.Prctl(37, (nuint)(&bit), 0, 0, 0) == 0 && bit == 1;
        }
    }

    /// <summary>PR_SET_CHILD_SUBREAPER: orphans below this process come here instead of to PID 1.</summary>
    public static void BecomeSubreaper()
    {
        if (Libc.Prctl(36, 1, 0, 0, 0) != 0)
        {
            throw SysException.FromLastError("prctl(PR_SET_CHILD_SUBREAPER)");
        }
    }

    public static void ChangeDirectory(string path)
    {
        if (Libc.Chdir(path) < 0)
        {
            throw SysException.FromLastError($"chdir({path})");
        }
    }

    public static void ChangeRoot(string path)
    {
        if (Libc.Chroot(path) < 0)
        {
            throw SysException.FromLastError($"chroot({path})");
        }
    }

    public static void NewSession() => _ = Libc.Setsid();

    /// <summary>sethostname(2), for the current uts namespace.</summary>
    public static void SetHostname(string name)
    {
        if (Libc.SetHostname(name, (nuint)System.Text.Encoding.UTF8.GetByteCount(name)) < 0)
        {
            throw SysException.FromLastError($"sethostname({name})");
        }
    }

    /// <summary>
    /// _exit(2) after flushing the console: for a process whose work is done and whose exit
    /// status is all that is left (a jail's init), the runtime's orderly shutdown is only delay.
    /// </summary>
    public static void ExitNow(int status)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        Libc.ExitNow(status);
    }
}

using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chdir(string path);

    [LibraryImport(Name, EntryPoint = "chroot", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chroot(string path);

    [LibraryImport(Name, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Execve(string path, nint argv, nint envp);

    [LibraryImport(Name, EntryPoint = "execvpe", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Execvpe(string file, nint argv, nint envp);

    [LibraryImport(Name, EntryPoint = "setgroups", SetLastError = true)]
    internal static unsafe partial int Setgroups(nuint size, uint* list);

    [LibraryImport(Name, EntryPoint = "setresgid", SetLastError = true)]
    internal static partial int Setresgid(uint real, uint effective, uint saved);

    [LibraryImport(Name, EntryPoint = "setresuid", SetLastError = true)]
    internal static partial int Setresuid(uint real, uint effective, uint saved);

    [LibraryImport(Name, EntryPoint = "waitpid", SetLastError = true)]
    internal static unsafe partial int Waitpid(int pid, int* status, int options);

    [LibraryImport(Name, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Name, EntryPoint = "geteuid")]
    internal static partial uint Geteuid();

    [LibraryImport(Name, EntryPoint = "getegid")]
    internal static partial uint Getegid();

    [LibraryImport(Name, EntryPoint = "getpid")]
    internal static partial int Getpid();

    [LibraryImport(Name, EntryPoint = "setsid", SetLastError = true)]
    internal static partial int Setsid();

    [LibraryImport(Name, EntryPoint = "reboot", SetLastError = true)]
    internal static partial int Reboot(uint command);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall3(long number, long arg1, long arg2, long arg3);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall4(long number, long arg1, long arg2, long arg3, long arg4);
}

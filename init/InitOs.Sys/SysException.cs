using System.Runtime.InteropServices;

namespace InitOs.Sys;

/// <summary>A failed system call: which call, on what, and the errno with its text.</summary>
public sealed class SysException : Exception
{
    public SysException(string operation, Errno errno)
        : base($"{operation}: {Describe(errno)}")
    {
        Operation = operation;
        Errno = errno;
    }

    public SysException() : this("system call", Errno.None) { }

    public SysException(string message) : base(message) { Operation = message; }

    public SysException(string message, Exception inner) : base(message, inner) { Operation = message; }

    public string Operation { get; } = "";

    public Errno Errno { get; }

    public static string Describe(Errno errno) =>
        $"{Marshal.GetPInvokeErrorMessage((int)errno)} ({errno})";

    /// <summary>Reads errno right after a failed call and wraps it.</summary>
    public static SysException FromLastError(string operation) =>
        new(operation, (Errno)Marshal.GetLastPInvokeError());
}
